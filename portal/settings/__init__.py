"""Settings an administrator changes while the portal runs, and the company's calendar."""
