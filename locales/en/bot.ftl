## Texts are HTML (Telegram parse_mode HTML). Arguments are escaped by bot/i18n.py.

start-welcome = Hello, { $name }! Welcome to the referral assistant. Invite friends to sign up and borrow, and earn rewards under the program's rules.
risk-notice = <b>Risk notice</b>: referral rewards are not investment returns and no income is guaranteed; anyone who asks you to pay first to "unlock" or "withdraw" a reward is a scammer; the platform never asks for your password or SMS verification code.
start-commands = You can use:
    { $commands }
start-invited-by = 🎉 You joined through <b>{ $name }</b>'s invitation.
start-already-bound = You already have a referrer; a referral, once bound, never changes.
start-not-new = You have used this bot before; invitation links count only for new users.
start-not-new-bind-hint = You have used this bot before; invitation links count only for new users. If a friend really invited you, send /bind followed by their code within { $hours } hours of your first visit.

code-caption = Your referral code: <code>{ $code }</code>
    Your invitation link: { $link }
    Friends who join through the link or the QR code are bound to you.
code-share-button = 📤 Share with friends
code-share-text = I use this lending platform. Sign up through my link for a new-member perk:
code-frozen = Your account is frozen, so your code is not available. Please contact support if you have questions.

bind-usage = Usage: /bind CODE (for example /bind ABCD2345). You can bind once, within a limited time after you first used this bot.
bind-confirm = Bind <b>{ $name }</b> (code <code>{ $code }</code>) as your referrer? This cannot be changed later.
bind-yes = ✅ Bind
bind-no = Cancel
bind-done = ✅ Done. Your referrer is <b>{ $name }</b>.
bind-cancelled = Cancelled; nothing was bound.
bind-window-closed = Sorry, binding is possible only within { $hours } hours of your first visit, and that time has passed.
bind-malformed = This invitation link is not valid (malformed); nothing was bound. Please ask your friend for the right link or code.
bind-unknown-code = No such referral code; nothing was bound. Please check it and try again.
bind-code-off = This referral code is not available; nothing was bound.
bind-own-code = You cannot use your own referral code.
bind-already-bound = You already have a referrer; a referral, once bound, never changes.
bind-cycle = You cannot bind under someone you invited yourself.
bind-is-bot = Bot accounts cannot take part in referrals.

invites-title = <b>My invitations</b>
invites-counts = Level { $level }: { $count ->
        [one] { $count } person
       *[other] { $count } people
    }
invites-empty = Nobody has joined through your link yet. Send /code for your invitation link.
invites-recent = Newest direct referrals (page { $page } of { $pages }):
invites-row = { $n }. { $name } · { $date }
page-prev = ◀ Previous
page-next = Next ▶

## Each language is named in itself, whatever the reader's language.
language-name-zh-CN = 中文
language-name-en = English
language-current = ✅ { $name }
language-other = { $name }
language-choose = 请选择语言 / Choose your language:
language-set = Language set to English.

help = <b>Referral assistant</b>
    { $commands }

cmd-start = Start, and the risk notice
cmd-code = My referral code, QR and link
cmd-invites = People I invited
cmd-bind = Bind a referrer (new users only)
cmd-language = Change language
cmd-help = Help

unknown-command = There is no /{ $command } command. Send /help for the commands.
text-hint = I understand commands only. Send /help for the list.
media-hint = I can't handle pictures, stickers or files. Send /help for the commands.
edited-ignored = Edited messages are not processed; please send the command again.
group-hint = Please use this command in a private chat with me, to keep your details private.
group-open-button = Open private chat
callback-expired = This button has expired.
error-generic = Sorry, something went wrong. Please try again later.

notice-joined = 🎉 Someone joined through your link: <b>{ $name }</b>. Send /invites to see.
