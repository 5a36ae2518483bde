"""The one place that masks secrets in text before it is printed, logged or written into a report.

It works on raw text with regular expressions, never by parsing a URL: a URL that ``urllib`` or libpq cannot
parse (``postgresql://u:pw@[bad/db``, a port that is not a number) is exactly the one that ends up quoted in an
error message, so masking must not depend on it being well formed. What is masked:

* the password of a URL's user information (``scheme://user:PASSWORD@host``), up to the last ``@`` of the token;
* ``password=``, ``sslpassword=``, ``passwd=`` and ``pwd=`` parameters, in a query string or in a keyword
  connection string (``host=x password='it''s secret' dbname=y``; quoted values, spaces around ``=``);
* API keys and tokens in query strings (``?key=``, ``apikey=``, ``access_token=``, ``service_role_key=`` ...);
* JSON Web Tokens (Supabase anon and service role keys are JWTs) and Supabase ``sb_secret_`` keys anywhere;
* ``Bearer`` tokens.

Example:
    >>> redact("postgresql://me:pw@localhost/agents")
    'postgresql://me:***@localhost/agents'
    >>> redact("postgresql://me@localhost/agents?sslmode=require&password=pw")
    'postgresql://me@localhost/agents?sslmode=require&password=***'
    >>> redact("host=db password='s3 cret' dbname=agents")
    'host=db password=*** dbname=agents'
"""

from __future__ import annotations

import re

MASK = "***"

# scheme://user:PASSWORD@ ... The password runs to the last '@' of its whitespace-free token (a raw '@', '/' or
# '[' in a password makes a malformed URL, and those are the ones quoted in error messages); a password with a
# raw space runs to the next '@' on the line. Masking too much is acceptable, too little is not.
_USERINFO = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^\s:/?#@'\"]*:)(?P<secret>\S*(?=@)|[^\n@]*(?=@))")
# password=VALUE in a keyword connection string or a query string: libpq allows spaces around '=' and single
# quoted values with \' or '' inside; a query string value ends at '&', '#' or whitespace.
_PASSWORD_PARAM = re.compile(
    r"(?P<head>(?<![A-Za-z0-9_])(?:ssl)?(?:password|passwd|pwd)\s*=\s*)"
    r"(?P<secret>'(?:[^'\\]|\\.|'')*(?:'|$)|\"(?:[^\"\\]|\\.)*(?:\"|$)|[^\s&#;,'\"]*)",
    re.IGNORECASE,
)
# Keys and tokens in query strings only (a bare "key = 'x'" in SQL or a plan is not a secret).
_TOKEN_PARAM = re.compile(
    r"(?P<head>[?&](?:key|apikey|api_key|access_token|refresh_token|token|secret|service_key|service_role_key|jwt)=)"
    r"(?P<secret>[^\s&#'\"]*)",
    re.IGNORECASE,
)
# A JSON Web Token: base64url header (always starts with {" -> eyJ), payload and signature.
_JWT = re.compile(r"\beyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*")
_SUPABASE_KEY = re.compile(r"\bsb_secret_[A-Za-z0-9_\-]+")
_BEARER = re.compile(r"(?P<head>\bBearer\s+)(?P<secret>[^\s'\"]+)", re.IGNORECASE)


def _mask(match: re.Match[str]) -> str:
    if not match.group("secret"):
        return match.group(0)  # an empty password (postgresql://postgres:@/okai) hides nothing
    return match.group("head") + MASK


def redact(text: str) -> str:
    """``text`` with every password, key and token in it replaced by ``***`` (safe on malformed URLs).

    Example:
        >>> redact('invalid URI: "postgresql://u:pw@[bad/db"')
        'invalid URI: "postgresql://u:***@[bad/db"'
        >>> redact("supabase://x.supabase.co?key=eyJhbGciOiJIUzI1NiJ9.eyJyb2xlIjoiYW5vbiJ9.c2ln")
        'supabase://x.supabase.co?key=***'
        >>> redact("sqlite:///agent.db")
        'sqlite:///agent.db'
    """
    if not text:
        return text
    text = _USERINFO.sub(_mask, text)
    text = _PASSWORD_PARAM.sub(_mask, text)
    text = _TOKEN_PARAM.sub(_mask, text)
    text = _BEARER.sub(_mask, text)
    text = _SUPABASE_KEY.sub(MASK, text)
    return _JWT.sub(MASK, text)


def redact_exception(exc: BaseException) -> str:
    """The first line of an exception's message, masked (its class name when the message is empty).

    Example:
        >>> redact_exception(ValueError("cannot parse postgresql://u:pw@h:x/db\\nmore"))
        'cannot parse postgresql://u:***@h:x/db'
    """
    from okai_insight.errors import first_line  # the one "first line of an error"

    return redact(first_line(exc))


__all__ = ["MASK", "redact", "redact_exception"]
