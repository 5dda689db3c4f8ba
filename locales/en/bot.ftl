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

## Rewards. Amounts arrive formatted (¥50.00); $rule is first_loan | repayment_on_time | second_credit | tier.
rule-name = { $rule ->
        [first_loan] first loan
        [repayment_on_time] on-time repayment
        [second_credit] second credit line
        [tier] tier bonus
       *[other] reward
    }
start-perk = 🎁 Your new-member perk: { $perk }
cmd-rewards = My rewards and balance
cmd-earnings = Earnings by level and rule

rewards-title = <b>My rewards</b>
rewards-balances = Pending: { $pending }
    Available: { $available }
    Paid out: { $paid }
rewards-owed = To be offset: { $owed } (a reward already paid out was reversed; it is deducted from later rewards)
rewards-next-tier = { $qualified } qualified friends (with a first loan) so far; { $missing } more to reach { $target } and a tier bonus of { $bonus }.
rewards-no-tier = { $qualified } qualified friends; you have earned every tier bonus.
rewards-quality = Referrer quality score: { $score }/100 (friends' on-time repayments raise it, reversed loans lower it)
rewards-hint = Rewards become available when their hold ends and, where the rules say so, after your credit check on the platform. Send /earnings for details.

earnings-title = <b>Earnings</b>
earnings-month = <b>This month</b>: { $total }
earnings-all-time = <b>All time</b>: { $total }
earnings-level = · Level { $level }: { $amount }
earnings-rule = · { rule-name }: { $amount }
earnings-recent-button = Last 20 entries
earnings-recent-title = <b>Last { $count } entries</b>
earnings-recent-empty = No reward entries yet.
earnings-entry = { $date } { $amount } · { $kind ->
        [reward] level { $level } { rule-name }
        [tier_bonus] tier bonus
        [reversal] reversed: { rule-name }
       *[payout] payout
    }

notice-reward = 💰 You earned a level { $level } { rule-name } reward of { $amount }, available from { $date }.
notice-reward-held = 💰 You earned a level { $level } { rule-name } reward of { $amount }. It becomes available once you pass the platform's credit check.
notice-reward-available = ✅ Your level { $level } { rule-name } reward of { $amount } is now available. Send /rewards to see.
notice-reward-reversed = ↩️ A level { $level } { rule-name } reward of { $amount } was reversed (a cancelled loan or a risk check).
notice-payout = 🏦 The platform paid you { $amount }.

## Admins
admin-only = This command is for the program's admins only.
admin-anonymous = You are posting as the anonymous group admin, so I cannot tell who you are. Turn off "Remain anonymous" or write to me in private.
admin-in-private = Admin commands work in a private chat with me only.
