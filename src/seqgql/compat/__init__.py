"""What leans on another library's private parts, each kept to one module."""
