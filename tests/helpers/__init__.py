"""What the tests share: clients, data builders, waits and scripted transports.

Test modules import these from here (``tests.helpers.<module>``), never from one another;
conftest.py files hold fixtures only. tests/test_test_layout.py keeps it that way.
"""
