"""The base layer: settings, storage, the clock, refusals and the one error envelope, input
types and the web helpers every page uses. Domains (`circles`, `rounds`, `consent.accounts`,
`consent.decisions`) build on it; it imports none of them (see docs/architecture.md)."""
