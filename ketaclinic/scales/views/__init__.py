"""Pages of the rating scales: the staff's (``staff``); the link and kiosk (``public``)."""
