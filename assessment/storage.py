"""A Django storage backend that keeps files in the database (``EvidenceBlob`` rows).

The default home of evidence files: web nodes keep no state, and a database backup
includes the evidence. Names are unique; saving under a taken name gets another one
(``get_available_name``), as with any storage. Files are read whole: evidence is capped
by ``EVIDENCE_MAX_BYTES`` (a few MB), so a file never needs streaming from here.
"""

from django.core.files.base import ContentFile
from django.core.files.storage import Storage
from django.utils.deconstruct import deconstructible


@deconstructible(path="assessment.storage.DatabaseStorage")
class DatabaseStorage(Storage):
    def _blobs(self):
        from assessment.models import EvidenceBlob

        return EvidenceBlob.objects

    def _open(self, name, mode="rb"):
        if "w" in mode or "a" in mode:
            raise ValueError("database-stored files are written through save()")
        row = self._blobs().filter(name=name).values_list("content", flat=True).first()
        if row is None:
            raise FileNotFoundError(name)
        content = ContentFile(bytes(row), name=name)
        content.mode = mode
        return content

    def _save(self, name, content):
        if hasattr(content, "seek"):
            content.seek(0)
        data = content.read()
        if isinstance(data, str):
            data = data.encode()
        self._blobs().create(name=name, content=data, size=len(data))
        return name

    def delete(self, name):
        if name:
            self._blobs().filter(name=name).delete()

    def exists(self, name):
        return self._blobs().filter(name=name).exists()

    def size(self, name):
        size = self._blobs().filter(name=name).values_list("size", flat=True).first()
        if size is None:
            raise FileNotFoundError(name)
        return size

    def url(self, name):
        # Evidence is served only through an access-checked view, never by a URL of its own.
        raise NotImplementedError("database-stored files have no public URL")

    def listdir(self, path):
        prefix = path.rstrip("/") + "/" if path else ""
        files, dirs = [], set()
        for name in self._blobs().filter(name__startswith=prefix).values_list("name", flat=True):
            rest = name[len(prefix) :]
            if "/" in rest:
                dirs.add(rest.split("/", 1)[0])
            else:
                files.append(rest)
        return sorted(dirs), sorted(files)
