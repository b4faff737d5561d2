// Package invitemail sends tenant invite emails through an SMTP relay
// (--smtp-addr), so that invitees get the token without the inviter
// having to pass it on.
package invitemail
