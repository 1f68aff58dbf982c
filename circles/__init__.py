"""Circles, domains, members, memberships and roles, and the rules about them."""
