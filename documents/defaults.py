"""What the documents say until staff write their own in the admin."""

from __future__ import annotations

TERMS = """# Terms of service

Horde is a crowd-powered image service that speaks the AI Horde v2 API.

## Using Horde

- Ask only for images you are allowed to ask for, and use them lawfully.
- Images of the SDXL beta are always shared: they are shown to other raters and become part of
  the ratings dataset.
- Kudos has no monetary value; staff may correct balances that were gained by abuse.
- Workers must return what they were asked to make; staff may remove workers and accounts that do not.

## No warranty

Horde is run by volunteers and offered as is, without warranty of any kind.
"""

PRIVACY = """# Privacy policy

## What Horde stores

- Your account: user name, email address, a hash of your API key (never the key itself).
- Your requests and images, and your ratings of them.
- Your kudos history.

## What others see

- Shared images, and the ratings dataset, where raters are named only by a keyed pseudonym.
- Your user name, kudos and worker figures through the public user endpoints.

## Your choices

Ask staff to delete your account and its data at any time.
"""
