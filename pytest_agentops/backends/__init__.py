"""What the tap can mount to serve a request: simulator glue, the fake model, staging/forwarding."""
