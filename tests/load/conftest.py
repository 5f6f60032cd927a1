# The load and fault scripts are run by `make load` and `make fault`, never by pytest.
collect_ignore_glob = ["*.py"]
