"""Every input, through a bound Django form; one module per audience, as the views.

Forms validate and clean; services write. A view never reads ``request.POST`` or
``request.GET`` itself.
"""
