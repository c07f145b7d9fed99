"""Services: a session in, plain data out."""
