"""Code shared by tests of several areas. Test modules and conftest files import from here, never
from each other."""
