"""NLU components of kefu (Rasa graph components)."""
