"""API tokens, principals, roles and the FastAPI dependencies that enforce them."""
