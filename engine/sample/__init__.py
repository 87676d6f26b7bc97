"""The sample province (`province.toml`) and its loader: what a newcomer sees in the first hour.

`nckh sample load` and `nckh demo` both read it; nothing else in nckh depends on it.
"""
