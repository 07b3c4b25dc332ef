"""Official accounts, approval requests and chains, grants derived from certificates, the authorised-user register."""
