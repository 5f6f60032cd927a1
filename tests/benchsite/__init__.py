"""The site ``make bench`` serves: the app exactly as deployed, plus one trivial page.

The trivial page (``/bench/hello/``) runs through the same middleware, settings and
gunicorn workers as every page of the app, so a page's throughput divided by its
throughput is a figure that does not depend on how busy the machine is. It exists only
here: production's URLconf (``assessment.urls``) has no such page.
"""
