"""What the reference mock fills in when a request leaves a field out.

These are the mock's own choices, not the contract's (the contract documents
no defaults); the suite never relies on them, so another server may choose
differently and still pass.
"""

FINGERPRINT = {"browser": "chrome", "locale": "en-US", "viewport": {"width": 1920, "height": 1080}}
STEALTH = "medium"
IDLE_TIMEOUT_MINUTES = 30
BROWSER_PROFILE = False
STATUS = "active"

USER_AGENTS = {
    "chrome": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "edge": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
}
DEFAULT_USER_AGENT = USER_AGENTS["chrome"]

# Locale -> IANA time zone; a locale missing here gets UTC, so a new locale in
# the contract needs no change to the mock.
TIMEZONES = {
    "en-US": "America/New_York", "en-GB": "Europe/London", "de-DE": "Europe/Berlin",
    "fr-FR": "Europe/Paris", "es-ES": "Europe/Madrid", "es-MX": "America/Mexico_City",
    "it-IT": "Europe/Rome", "nl-NL": "Europe/Amsterdam", "pt-BR": "America/Sao_Paulo",
    "pt-PT": "Europe/Lisbon", "pl-PL": "Europe/Warsaw", "tr-TR": "Europe/Istanbul",
    "sv-SE": "Europe/Stockholm", "da-DK": "Europe/Copenhagen", "nb-NO": "Europe/Oslo",
    "fi-FI": "Europe/Helsinki", "ja-JP": "Asia/Tokyo", "ko-KR": "Asia/Seoul",
    "zh-CN": "Asia/Shanghai", "zh-TW": "Asia/Taipei",
}

MAX_BODY_BYTES = 1024 * 1024
# Deeper bodies get a 400. A runtime's config needs a handful of levels, but free-form
# `metadata` may legitimately nest (the strategies send up to 64 levels as an edge case);
# a bound well below Python's recursion limit (~1000) keeps validation and the echo safe.
MAX_JSON_DEPTH = 128
