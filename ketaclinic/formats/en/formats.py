"""The clinic's one date and time format: ISO dates and 24-hour times, in the clinic's zone.

Django 5 always localises, and the en locale's own formats ("N j, Y", "P": "3 p.m.") win over
``settings.DATE_FORMAT``; ``FORMAT_MODULE_PATH`` points here so that ``{{ value|date }}``,
``{{ value|time }}`` and a bare ``{{ datetime }}`` all read the same way everywhere.
"""

DATE_FORMAT = "Y-m-d"
SHORT_DATE_FORMAT = "Y-m-d"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
MONTH_DAY_FORMAT = "j F"
YEAR_MONTH_FORMAT = "F Y"
FIRST_DAY_OF_WEEK = 1
