"""`softskills analyze`: the API's command-line client (stdlib + httpx; no server code)."""
