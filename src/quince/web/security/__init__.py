"""What the faces people use share to trust a browser: HMAC signing with the install's key
(`signing`) and the CSRF cookie with its form token (`csrf`). The sign-in pages and the console each
make their own `CsrfCookie` and signing purposes from these."""
