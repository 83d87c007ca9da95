"""The one error type for a contract or overlay that cannot be used."""


class ContractError(Exception):
    """The contract or its overlay cannot be loaded; the message says what and how to fix it."""
