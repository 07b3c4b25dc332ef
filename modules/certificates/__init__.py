"""Certificates: PDF rendering (WeasyPrint), storage, revocation, renewal and the public /verify page."""
