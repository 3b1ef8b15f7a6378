"""kefu (客服): the project's own Python code for the complaint assistant."""
