package oidcreg

import (
	"errors"
	"fmt"
	"net/url"
)

// StaffCallbackPath is the path of the console's OpenID callback: a staff
// provider's redirectURL is the site's origin and this path.
const StaffCallbackPath = "/admin/oidc/callback"

// ParseStaff strictly decodes and validates the provider that the
// console's staff sign in with (SPEC.md §15.8): a Config as Parse reads
// it, whose redirectURL is the console's callback, with no eligibility
// rules, and naming a person by "sub" (a staff account is bound to an
// issuer and a subject).
func ParseStaff(data []byte) (*Config, error) {
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("staff sign-in: %w", err)
	}
	if err := c.ValidateStaff(); err != nil {
		return nil, err
	}
	return c, nil
}

// ValidateStaff checks a validated configuration for the console's staff.
func (c *Config) ValidateStaff() error {
	if len(c.Rules) != 0 {
		return errors.New("staff sign-in: rules are for voters' eligibility; a staff member signs in only as an account bound to them (koe staff oidc)")
	}
	if c.IdentityClaim != "sub" {
		return fmt.Errorf("staff sign-in: identityClaim %q: staff accounts are bound to the provider's \"sub\"", c.IdentityClaim)
	}
	u, err := url.Parse(c.RedirectURL)
	if err != nil || u.Path != StaffCallbackPath || u.RawQuery != "" {
		return fmt.Errorf("staff sign-in: redirectURL %q must be the console's callback, <site>%s", c.RedirectURL, StaffCallbackPath)
	}
	return nil
}
