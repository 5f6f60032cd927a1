"""Actions run at the same moment, for the tests that race two requests for one change."""

import threading
from collections.abc import Callable

from django.db import connection


def run_together(*actions: Callable[[], object]) -> list[object]:
    """Run each action in its own thread, all released at once; results or errors."""
    outcomes: list[object] = []
    barrier = threading.Barrier(len(actions))

    def run(action: Callable[[], object]) -> None:
        try:
            barrier.wait()
            outcomes.append(action())
        except Exception as error:  # recorded and asserted by the caller
            outcomes.append(error)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
