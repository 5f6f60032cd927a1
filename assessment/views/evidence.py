"""Evidence: attach, list, download and delete files, links and notes."""
