// The mails the local auth sends, rendered from GoTrue's default templates and delivered to the
// local mailbox. A link is built as GoTrue builds {{ .ConfirmationURL }}:
//   <project URL>/auth/v1/verify?token=<token hash>&type=<kind>&redirect_to=<allowed redirect>
// and every mail also carries the one-time code ({{ .Token }}).

import type { Mailbox } from '../mail/mailbox.ts';

export type MailKind = 'signup' | 'invite' | 'magiclink' | 'recovery' | 'email_change' | 'reauthentication';

const SENDER = { Name: 'MindMirror (local auth)', Address: 'noreply@mindmirror.localhost' };

interface Template {
  subject: string;
  heading: string;
  /** The sentence before the link; $email / $newEmail / $site are filled in. */
  lead: string;
  linkText: string;
}

const TEMPLATES: Record<MailKind, Template> = {
  signup: { subject: 'Confirm Your Email', heading: 'Confirm your email', lead: 'Follow this link to confirm your email:', linkText: 'Confirm your email address' },
  invite: {
    subject: 'You have been invited',
    heading: 'You have been invited',
    lead: 'You have been invited to create a user on $site. Follow this link to accept the invite:',
    linkText: 'Accept the invite',
  },
  magiclink: { subject: 'Your Magic Link', heading: 'Magic Link', lead: 'Follow this link to login:', linkText: 'Log In' },
  recovery: { subject: 'Reset Your Password', heading: 'Reset Password', lead: 'Follow this link to reset the password for your user:', linkText: 'Reset Password' },
  email_change: {
    subject: 'Confirm Email Change',
    heading: 'Confirm email address change',
    lead: 'Follow this link to confirm the update of your email address from $email to $newEmail:',
    linkText: 'Change email address',
  },
  reauthentication: { subject: 'Confirm reauthentication', heading: 'Confirm reauthentication', lead: '', linkText: '' },
};

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export interface MailContent {
  /** The account's address (for an e-mail change, the current one). */
  email: string;
  otp: string;
  /** Absent for reauthentication, which has only a code. */
  tokenHash?: string;
  redirectTo?: string;
  newEmail?: string;
}

export class Mailer {
  constructor(
    private readonly mailbox: Mailbox,
    /** <project URL>/auth/v1 */
    private readonly authUrl: string,
    private readonly siteUrl: string,
  ) {}

  /** The link a mail of this kind carries. */
  linkFor(kind: MailKind, tokenHash: string, redirectTo: string): string {
    return `${this.authUrl}/verify?token=${tokenHash}&type=${kind}&redirect_to=${encodeURIComponent(redirectTo)}`;
  }

  send(kind: MailKind, to: string, content: MailContent): void {
    const t = TEMPLATES[kind];
    const lead = t.lead.replace('$site', this.siteUrl).replace('$email', content.email).replace('$newEmail', content.newEmail ?? '');
    const link = content.tokenHash ? this.linkFor(kind, content.tokenHash, content.redirectTo ?? this.siteUrl) : null;
    const text = link
      ? `${t.heading}\n\n${lead}\n${link}\n\nAlternatively, enter the code: ${content.otp}\n`
      : `${t.heading}\n\nEnter the code: ${content.otp}\n`;
    const html = link
      ? `<h2>${escapeHtml(t.heading)}</h2>\n\n<p>${escapeHtml(lead)}</p>\n<p><a href="${escapeHtml(link)}">${escapeHtml(t.linkText)}</a></p>\n<p>Alternatively, enter the code: ${escapeHtml(content.otp)}</p>`
      : `<h2>${escapeHtml(t.heading)}</h2>\n\n<p>Enter the code: ${escapeHtml(content.otp)}</p>`;
    this.mailbox.deliver({ from: SENDER, to: [{ Name: '', Address: to }], subject: t.subject, text, html });
  }
}
