"""Thin routes: parse the request, call one library function, shape the response."""
