"""The managers' web pages, served by the app with no request leaving the machine."""
