"""Views, one module per audience: public pages, managers, respondents."""
