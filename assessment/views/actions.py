"""Action plans: create, edit and follow up actions; the calendar feed."""
