package origin

// RegistrableHost validates a domain name as a customer registers it: it
// is NormalizeHost, whose canonical form it returns, plus the policy's rule
// on special-use names. Names under .localhost, .local, .internal,
// .home.arpa, .test and .example are refused unless AllowPrivate is set,
// since they are private to a machine or network, or reserved for testing
// and documentation; names under .invalid, .onion, .alt and the rest of
// .arpa are always refused. AllowCIDRs plays no part: it concerns
// addresses, not names. The error matches ErrBadHost and its errkind
// message says what is wrong.
//
// Lookups of names already registered use NormalizeHost, so that a stricter
// policy never hides a domain from its owner. Safe for concurrent use.
func (p Policy) RegistrableHost(s string) (string, error) {
	name, err := NormalizeHost(s)
	if err != nil {
		return "", err
	}
	if why, private, ok := specialUse(name); ok && (!private || !p.AllowPrivate) {
		return "", because(ErrBadHost, why)
	}
	return name, nil
}
