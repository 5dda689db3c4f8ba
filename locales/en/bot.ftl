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

## Risk-education tips and /settings. Tips are tip-1..tip-N, sent in order, one every TIP_INTERVAL_DAYS;
## the code counts them, so add one by appending tip-<N+1> in every language. Each ends with { tips-footer }.
tips-footer = <i>Don't want these tips? Turn them off in /settings.</i>
tip-1 = 🛡 <b>Safety tip: fake customer service</b>
    Someone calls or messages you as "platform customer service" and says your account, loan or reward has a problem that needs fixing? The platform contacts you only through its official app. Hang up, and check in the app yourself.

    { tips-footer }
tip-2 = 🛡 <b>Safety tip: "pay a fee to withdraw"</b>
    A reward never has to be "unlocked", "activated" or "released" with a payment, a deposit, a tax or a "verification transfer". Anyone who asks you to pay first to withdraw is a scammer.

    { tips-footer }
tip-3 = 🛡 <b>Safety tip: don't sell your account or code</b>
    Selling, renting or lending your platform account or your referral code is against the rules, and whoever buys it can borrow in your name. Codes and accounts found on the market are frozen and their rewards reversed.

    { tips-footer }
tip-4 = 🛡 <b>Safety tip: no fake referrals</b>
    Rewards are for real friends who really borrow. Sign-ups with borrowed phones, bought accounts or paid "helpers" are found by the risk checks: their rewards are reversed and the accounts involved may be frozen.

    { tips-footer }
tip-5 = 🛡 <b>Safety tip: keep your data to yourself</b>
    Never share an SMS verification code, a password, a payment PIN or photos of your ID card, not even with someone who says they are from the platform. Nobody legitimate will ever ask for them.

    { tips-footer }
tip-6 = 🛡 <b>Safety tip: borrow only in the official app</b>
    Apply for loans and repay them only inside the platform's official app. "Agents" who apply for you, offer a "faster approval" for a fee, or ask you to repay to a personal account are not from the platform.

    { tips-footer }
tip-7 = 🛡 <b>Safety tip: watch out for phishing links</b>
    Log in only in the official app or on the official website you typed yourself. A link in a message that asks you to log in, "verify" or "claim a reward" may lead to a copy of the site built to steal your password.

    { tips-footer }
tip-8 = 🛡 <b>Safety tip: borrow responsibly</b>
    Borrow only what you need and can repay on time; a late repayment costs you fees and hurts your credit. A referral reward is never a reason to take out a loan, and please never push a friend to borrow.

    { tips-footer }
tip-9 = 🛡 <b>Safety tip: no screen sharing</b>
    Never share your screen or install a "remote assistance" app at a stranger's request. With it they can read your verification codes and move your money while you watch.

    { tips-footer }
tip-10 = 🛡 <b>Safety tip: nobody can "raise your limit" for money</b>
    Promises to raise your credit limit, "repair" your credit record or guarantee approval in exchange for a fee are scams. Only the platform's own review decides, and it is free.

    { tips-footer }
settings-title = <b>Settings</b>
settings-tips-on = 🛡 Safety tips: <b>on</b>. A short tip about fraud and safe borrowing about once every { $days } days, in the daytime, and never on a day we already sent you another message.
settings-tips-off = 🛡 Safety tips: <b>off</b>.
settings-tips-paused = 🛡 Safety tips: <b>{ $on ->
        [yes] on
       *[no] off
    }</b>. The bot is not sending tips at the moment.
settings-notices-stay = Reward and invitation notices always stay on: they are about your money.
settings-tips-turn-off = 🔕 Turn safety tips off
settings-tips-turn-on = 🔔 Turn safety tips on
settings-tips-saved-off = Safety tips turned off.
settings-tips-saved-on = Safety tips turned on.
cmd-settings = Settings: safety tips on or off

## Admin commands (handlers/admin.py): /stats, /user, /freeze, /unfreeze, /promote, /demote
admin-help-title = <b>Admin commands</b>
cmd-admin-stats = Program statistics and funnel
cmd-admin-user = One user: /user ID
cmd-admin-freeze = Freeze a user: /freeze ID REASON
cmd-admin-unfreeze = Unfreeze a user: /unfreeze ID
cmd-admin-promote = Make a user an agent or admin: /promote ID agent|admin
cmd-admin-demote = Back to a regular user: /demote ID
cmd-admin-broadcast = Send a message to many users
cmd-admin-broadcast_status = Where the broadcasts stand
cmd-admin-publish = Publish new program rules (TOML file)
admin-role-name = { $role ->
        [agent] agent
        [admin] admin
       *[user] regular user
    }
admin-status-name = { $status ->
        [active] active
        [frozen] frozen
        [blocked] blocked the bot
       *[other] { $status }
    }
admin-usage-user = Usage: /user ID, for example /user 123456789
admin-usage-freeze = Usage: /freeze ID REASON, for example /freeze 123456789 farming with fake accounts
admin-usage-unfreeze = Usage: /unfreeze ID [REASON]
admin-usage-promote = Usage: /promote ID agent|admin [REASON]
admin-usage-demote = Usage: /demote ID [REASON]
admin-bad-id = “{ $arg }” is not a user id: send the Telegram id in digits, for example /user 123456789
admin-unknown-user = No user with id { $id }: they have never written to the bot and the platform has not reported them.
admin-self = You cannot do that to yourself; another admin can.
admin-freeze-no-reason = A freeze needs a reason, kept in the audit log: /freeze { $id } REASON
admin-freeze-admin = User { $id } is an admin, and admins are not frozen. Demote them first.
admin-frozen = ❄️ User { $id } is frozen. While frozen they earn no rewards and their codes bind nobody; they are not told. Reason: { $reason }
admin-already-frozen = User { $id } is already frozen; nothing changed.
admin-unfrozen = ✅ User { $id } is active again. Conversions reported from now on pay them; nothing is paid for the time they were frozen.
admin-not-frozen = User { $id } is not frozen (status: { admin-status-name }); nothing changed.
admin-bad-role = “{ $role }” is not a role you can give: use agent or admin.
admin-promoted = ✅ User { $id } is now { $role ->
        [agent] an agent
       *[admin] an admin
    }.
admin-already-role = User { $id } is already { $role ->
        [agent] an agent
       *[admin] an admin
    }; nothing changed.
admin-promote-frozen = User { $id } is frozen; unfreeze them before a promotion.
admin-config-admin = User { $id } is an admin through ADMIN_IDS, the bot's configuration, so their role cannot be changed from here. Remove the id from ADMIN_IDS and restart the bot.
admin-demoted = ✅ User { $id } is a regular user again (was { $before ->
        [agent] an agent
       *[admin] an admin
    }).
admin-not-promoted = User { $id } is already a regular user; nothing changed.

stats-title = <b>Program statistics</b> · { $day }
stats-users = 👥 Users: { $total } (active { $active }, frozen { $frozen }, blocked the bot { $blocked }; known only to the platform { $platform })
stats-roles = Agents: { $agents } · admins: { $admins } promoted + { $configured } in ADMIN_IDS
stats-bound = 🔗 Bound to a referrer: { $bound }
stats-levels = Referrals by level: { $counts }
stats-level = L{ $level } { $count }
stats-events = 📥 Events received today: { $events }
stats-event = { $type } { $count }
stats-events-none = 📥 Events received today: none
stats-ledger = 💰 Ledger: rewards { $reward } · tier bonuses { $tier } · reversed { $reversed } · paid out { $paid }
stats-tips-off = 💡 Safety tips turned off: { $count }
stats-flags = 🚩 Anti-fraud flags waiting for /review: { $count }
stats-funnel = <b>Funnel</b> (each share is of the step before)
    Joined { $joined }
    → bound to a referrer { $bound } ({ $bound_pct })
    → credit approved { $approved } ({ $approved_pct })
    → first loan { $loan } ({ $loan_pct })

user-info-none = —
user-info-title = <b>User { $id }</b> · { $name }
user-info-role = Role: { admin-role-name } · status: { admin-status-name } · language: { $language }
user-info-external = Platform account: { $external }
user-info-codes = Codes: { $codes }
user-info-referrer = Referrer: { $referrer }
user-info-upline = Upline (nearest first): { $upline }
user-info-referrals = Referrals: { $counts }
user-info-balance = Balance: pending { $pending } · available { $available } · paid { $paid } · reversed { $reversed } · lapsed { $lapsed } · owed { $owed }
user-info-earnings = Earnings: { $earnings }
user-info-credit-approved = Credit check: passed on { $date }
user-info-credit-pending = Credit check: not yet{ $required ->
        [yes] {" "}(their rewards wait for it)
       *[no] {""}
    }
user-info-quality = Quality score: { $score }/100 · program version { $version }

## Rules and rule changes (/rules, announcements, /publish). $rule as in rule-name; amounts arrive as ¥.
cmd-rules = The reward rules in force
rules-title = <b>Referral program rules</b> · version { $version }
rules-since = In force since { $date } ({ $tz }).
rules-levels = { $levels ->
        [1] You are rewarded for friends you invite yourself (level 1).
       *[other] You are rewarded for friends you invite (level 1) and for the people they invite, up to level { $levels }.
    }
rules-rewards-title = <b>Rewards when a friend…</b>
rules-level-amount = level { $level } { $amount }
rules-amount-separator = ,{" "}
rules-reward = · { rule-name }: { $amounts }
rules-reward-capped = · { rule-name }: { $amounts } (at most { $cap } times per friend)
rules-no-rewards = · No rewards are paid under this version.
rules-tiers-title = <b>Tier bonuses</b> (once each; friends with a first loan count)
rules-tier = · { $qualified } friends: { $bonus }
rules-hold = { $days ->
        [0] Rewards are available at once.
        [one] Rewards become available { $days } day after the event.
       *[other] Rewards become available { $days } days after the event.
    }
rules-credit-check = Your rewards are released once you pass the platform's credit check; rewards still held { $days } days after they were earned lapse.
rules-no-credit-check = No credit check is needed before your rewards are released.
rules-perk = 🎁 Friends you invite get: { $perk }
rules-next = <b>Announced: version { $version }</b> takes effect on { $date } ({ $tz }). What changes:
rules-footer = Every event is rewarded under the version in force when it happened.

rulechange-announce = 📢 <b>The referral program changes: version { $version }</b>
    It takes effect on { $date } ({ $tz }). What changes:
    { $changes }
    Events before then are rewarded under the current rules. Send /rules for all the rules.
rulechange-amount = · { rule-name }, level { $level }: { $before } → { $after }
rulechange-cap = · { rule-name }, times per friend: { $before } → { $after }
rulechange-tier = · Tier bonus at { $qualified } friends: { $before } → { $after }
rulechange-levels = · Levels rewarded: { $before } → { $after }
rulechange-hold-days = · Days before rewards are available: { $before } → { $after }
rulechange-credit-check = · Credit check before rewards are released: { $before } → { $after }
rulechange-lapse-days = · Days to pass the credit check: { $before } → { $after }
rulechange-perk = · New perk for friends you invite: { $perk }
rulechange-nothing = · The amounts and conditions stay the same.
rulechange-none = none
rulechange-no-limit = no limit
rulechange-yes = yes
rulechange-no = no
rulechange-ack-button = ✅ I have read it
rulechange-thanks = Thank you, noted.
rulechange-already = Already noted.
rulechange-acked = ✅ You confirmed reading this on { $date } ({ $tz }).

publish-usage = Usage: /publish EFFECTIVE-TIME [urgent reason], e.g. /publish 2026-12-10T00:00+08:00; then send the program as a .toml file.
publish-send-file = Takes effect on { $date } ({ $tz }). Now send the new program as a .toml document.
publish-not-document = Please send the program as a .toml document, or press Cancel.
publish-too-big = The file is larger than { $kb } KB; a program file is much smaller.
publish-not-text = The file is not UTF-8 text; send the program's .toml file.
publish-preview = <b>Preview</b>: version { $version } replaces version { $previous } on { $date } ({ $tz }).
    It will be announced to { $recipients } users. What changes:
publish-urgent = ⚠️ Short notice. Reason (recorded in the audit log): { $reason }
publish-confirm-button = ✅ Publish
publish-cancel-button = Cancel
publish-cancelled = Cancelled; nothing was published.
publish-stale = This preview is no longer current; nothing was published. Send /publish to start again.
publish-done = ✅ Version { $version } is published; it takes effect on { $date } ({ $tz }). Announced to { $recipients } users.
publish-err-bad-time = "{ $value }" is not a time such as 2026-12-10T00:00+08:00.
publish-err-past = The effective time { $date } is in the past.
publish-err-notice = Rule changes need { $days } days' notice: the effective time must be { $earliest } or later. For an urgent change, add the reason after the time.
publish-err-invalid = The program file was refused: { $detail }
publish-err-levels = The program has { $levels } levels but the bot keeps { $max } (REFERRAL_LEVELS).
publish-err-not-newer = Version { $version } is not newer than the latest published version { $latest }; the new program's version must be greater than { $latest }.
publish-err-before-latest = Version { $latest } takes effect on { $date }; the new version must take effect after it.
publish-err-taken = Version { $version } was published meanwhile; nothing was published.

## Broadcasts
bc-ask = 📣 Send me the message to broadcast: text, a photo with a caption, formatting and all. Recipients get an exact copy, without a "forwarded" header. /cancel to stop.
bc-unsupported = This kind of message cannot be copied to others. Send text, a photo, a video or a document, or /cancel.
bc-pick-audience = Who should receive it? (active users only; nobody who blocked the bot or is frozen)
bc-audience-name = { $audience ->
        [all] everyone
        [lang-zh-CN] users reading 中文
        [lang-en] users reading English
        [role-agent] agents
        [role-admin] admins
       *[referrers] users with referrals
    }
bc-audience-button = { $audience ->
        [all] Everyone
        [lang-zh-CN] 中文
        [lang-en] English
        [role-agent] Agents
        [role-admin] Admins
       *[referrers] Users with referrals
    } ({ $count })
bc-nobody = Nobody is in that audience right now. Pick another, or /cancel.
bc-preview = ☝️ That is exactly what they will see.
    Audience: { bc-audience-name } — <b>{ $count }</b> recipients.
    Send it?
bc-confirm-button = ✅ Send to { $count }
bc-cancel-button = Cancel
bc-cancelled = Cancelled; nothing was sent.
bc-nothing-to-cancel = There is nothing to cancel.
bc-stale = This question is out of date. Start again with /broadcast.
bc-already-started = Already started as broadcast #{ $id }.
bc-started = Broadcast #{ $id } started.
bc-progress-title = 📣 <b>Broadcast #{ $id }</b> — { $state ->
        [running] sending…
        [done] ✅ done
       *[cancelled] ⛔ cancelled
    }
bc-progress-audience = Audience: { bc-audience-name } ({ $total })
bc-progress-counts = Sent: <b>{ $sent }</b> of { $total }
    Failed: { $failed } · Blocked the bot: { $blocked } · Left Telegram: { $left }
bc-progress-running = Still to send: { $pending } · { $rate } msg/s · about { $eta } left
bc-progress-called-off = Called off: { $cancelled }
bc-progress-took = Took { $took }.
bc-duration = { $minutes ->
        [0] { $seconds } s
       *[other] { $minutes } min { $seconds } s
    }
bc-eta-unknown = (estimating)
bc-cancel-broadcast-button = ⛔ Cancel the broadcast
bc-cancel-done = Broadcast #{ $id } cancelled: { $count } messages will not be sent.
bc-cancel-too-late = Broadcast #{ $id } has already { $state ->
        [done] finished
       *[cancelled] been cancelled
    }.
bc-status-usage = Usage: /broadcast_status [ID] (the newest broadcast without an ID)
bc-status-none = No broadcasts yet. Start one with /broadcast.
bc-status-unknown = There is no broadcast #{ $id }.

## Groups and the inline invite card (handlers/groups.py, handlers/inline.py): group-, top-, inline-
cmd-invite = My invite link for a group
group-not-admin = I can't create invite links here: I am not an admin of this group. A group admin can make me an admin with the right “Invite users via link”.
group-no-invite-right = I can't create invite links here: I am an admin, but without the right “Invite users via link”. A group admin can turn it on in my admin rights.
group-ready = Hello! Send /invite here to get your personal invite link for this group (I send it to you privately); /top shows this week's top inviters.
group-start-me-first = I can send your invite link only in a private chat, and you haven't started me yet. Open a chat with me, press Start, then send /invite here again.
group-invite-anonymous = You are posting anonymously, so I can't tell who should get the link. Send /invite to me in a private chat instead.
group-invite-link = Your personal invite link for <b>{ $title }</b>:
    { $link }
group-invite-rule = People who join through it count for you on the group's /top { $stay }. If they then start this bot, they become your referrals.
group-stay-hours = once they have stayed { $hours } h
group-stay-none = as soon as they join
group-invite-failed = Sorry, I could not create the link right now. Please try again later.
group-invite-pick = Which group do you want an invite link for?
group-invite-none = I haven't seen you in any group where I am an admin. Add me to your group as an admin with the right “Invite users via link”, then send /invite there.
group-invite-not-member = You don't seem to be in that group any more, so I can't give you a link for it.
top-title = <b>Top inviters this week</b> (since { $since })
top-line = { $rank }. { $name } — { $count }
top-empty = No one has brought anyone in through their invite link this week yet. Send /invite to get yours.
top-rule = Counted: people who joined through a member's /invite link, { $stay }.
top-off = The leaderboard is turned off in this group. A group admin can turn it on with /top on.
top-turned-off = The leaderboard is now off in this group. /top on turns it back on.
top-turned-on = The leaderboard is now on in this group.
top-admins-only = Only the group's admins can turn the leaderboard on or off.
top-private = /top works in groups: send it in a group I am in to see this week's top inviters.
inline-card-title = Send my invitation card
inline-card-description = Your personal link to join; only you see this card.
inline-card-text = 🎁 <b>{ $name }</b> invites you to join!
    Sign up through my link: { $link }
inline-card-perk = New members get: { $perk }
inline-join-button = Join
inline-start-button = Open the bot to get your invitation card
inline-frozen-button = Your invitation card is not available

## Agents: /station, /poster, /residents (handlers/stations.py, poster.py, residents.py). Poster texts
## (poster-scan, -code, -perk, -join, -reward, -rules-hint, -risk) are printed in the PDF too: plain text, no HTML.
agent-help-title = <b>Station tools</b>
cmd-agent-station = Your stations: add, list, rename, switch off or on
cmd-agent-poster = A printable poster (PDF) and phone image for a station
cmd-agent-residents = Residents per station: joined, bound, approved, first loan, repayments
agent-only = The station tools are for community-station agents. Ask an admin if you run a station.
agent-frozen = Your account is frozen, so the station tools are not available. Please contact support if you have questions.
station-usage = <b>Stations</b>
    /station add <i>label</i> — a new station code (for example /station add Happy Lane Station)
    /station list — your stations, their links and how many residents each bound
    /station rename <i>CODE new label</i>
    /station off <i>CODE</i> — its link stops binding new users (turn back on with /station on <i>CODE</i>)
    A station can be named by its code or its label.
station-bad-label = A station label must be 1 to { $max } characters, without control characters.
station-label-taken = You already have a station with this label (labels are compared ignoring case). Choose another.
station-too-many = You have reached the limit of { $max } stations. Rename a station you no longer use instead.
station-unknown = You have no station "{ $ref }". Send /station list to see your stations' codes and labels.
station-added = ✅ Station <b>{ $label }</b> created.
    Code: <code>{ $code }</code>
    Link: { $link }
    Residents who open the link are bound to you, with this station's label. Send /poster { $code } for a printable poster.
station-list-empty = You have no stations yet. Create one with /station add <i>label</i>.
station-list-title = <b>Your stations</b> ({ $count })
station-list-item = { $n }. <b>{ $label }</b> · { $state ->
        [on] 🟢 on
       *[off] ⚪ off
    } · { $bound } bound
    <code>{ $code }</code> · { $link }
station-list-footer = /poster <i>CODE</i> for a poster · /residents for the funnel · /station for the commands
station-rename-same = The station is already called <b>{ $label }</b>.
station-renamed = ✅ Station <code>{ $code }</code> renamed from <b>{ $before }</b> to <b>{ $after }</b>. Residents already bound keep the label they joined under.
station-already = Station <b>{ $label }</b> (<code>{ $code }</code>) is already { $state ->
        [on] on
       *[off] off
    }.
station-switched-off = ⚪ Station <b>{ $label }</b> (<code>{ $code }</code>) is off: new users who open its link are told it is not available, and nobody is bound. Residents already bound stay yours. /station on { $code } turns it back on.
station-switched-on = 🟢 Station <b>{ $label }</b> (<code>{ $code }</code>) is on again: its link binds new users.
poster-usage = Which station? Send /poster with a code or label, for example /poster { $codes }
poster-station-off = Station <b>{ $label }</b> (<code>{ $code }</code>) is off, so its poster would bind nobody. Turn it on with /station on { $code } first.
poster-pdf-caption = 🖨 A4 poster for <b>{ $label }</b>: print it and put it up at the station.
poster-caption-title = 📱 <b>{ $label }</b>: show this to residents to scan.
poster-caption-link = Link: { $link }
poster-scan = Scan with your phone camera, or open the link below in Telegram
poster-code = Referral code: { $code }
poster-perk = New members: { $perk }
poster-join = Join through this station to take part in the referral program.
poster-reward = Invite a friend who takes a first loan: { $amount } reward for you.
poster-rules-hint = Send /rules to the bot for the program's rules.
poster-risk = Risk notice: rewards are not investment returns; anyone asking you to pay first to "unlock" a reward is a scammer.
residents-title = <b>Residents by station</b>
    Each line: today ({ $today }) · this week (from Monday { $week }) · all time
residents-all-stations = <b>All { $count } stations</b>
residents-station = <b>{ $label }</b> · <code>{ $code }</code>{ $state ->
        [on] {""}
       *[off] {" "}· ⚪ off
    }
residents-step = { $step ->
        [joined] Opened the link
        [bound] Bound
        [credit_approved] Credit approved
        [first_loan] First loan
       *[on_time] On-time repayments
    }: { $today } · { $week } · { $total }
residents-footer = Opened the link: everyone who started the bot with the station's link (bound or not). Repayments count repayments, not people. Export the residents (names masked) with the button.
residents-none-yet = No residents are bound through your stations yet.
residents-export-button = 📄 Export CSV
residents-export-caption = Residents bound through your stations: { $count } (names masked).
residents-csv-station = Station
residents-csv-code = Code
residents-csv-resident = Resident
residents-csv-bound-at = Bound at
residents-csv-credit-approved = Credit approved
residents-csv-first-loan = First loan
residents-csv-on-time = On-time repayments

## Anti-fraud review (handlers/review.py, bot/services/fraud): review-, fraud-
cmd-admin-review = Review anti-fraud flags: /review [ID]
fraud-notice-pending = 💰 You earned a level { $level } { rule-name } reward of { $amount }. It shows as pending for now; I'll tell you when it becomes available.
review-kind-name = { $kind ->
        [velocity_hour] too many bindings in an hour
        [velocity_day] too many bindings in a day
        [burst] a burst of bindings
        [idle_tier] idle referees behind a tier bonus
       *[fake_referees] fake referees (bots, deleted accounts)
    }
review-flag-title = 🚩 <b>Flag #{ $id }</b> · { review-kind-name } · raised { $date }
review-user = User: { $name } ({ $id })
review-ev-velocity-hour = { $count } bindings in the last hour (limit { $limit }).
review-ev-velocity-day = { $count } bindings on { $day } (limit { $limit }).
review-ev-burst = { $count } bindings within { $seconds } s (a burst is { $limit }).
review-ev-idle-tier = { $idle } of { $referees } direct referees ({ $share }%) never did anything on the platform when a tier bonus came due (rule: at least { $min } referees, { $limit }% idle).
review-ev-fake-referees = { $count } fake referees: { $bots } bots, { $deleted } deleted accounts, { $group_bots } bots who joined a group through their links.
review-peak = Highest count so far: { $peak }.
review-agent = An agent: the agents' higher limits apply.
review-timeline = Bindings (local time): { $times }
review-others = Other open flags of this user: { $flags }
review-held = Held: { $amount }
review-decided = { $decision ->
        [approve] ✅ Approved by { $admin } on { $date }: { $amount } released.
        [reject] ❌ Rejected by { $admin } on { $date }: { $amount } reversed.
       *[reject_freeze] ❌ Rejected and frozen by { $admin } on { $date }: { $amount } reversed.
    }
review-button-approve = ✅ Approve
review-button-reject = ❌ Reject
review-button-freeze = 🧊 Reject and freeze
review-queue-title = <b>Open flags: { $total }</b> (oldest first; here { $shown }). Approve releases what a flag holds; reject reverses it.
review-empty = No open flags. 👍
review-usage = Usage: /review for the queue of open flags, or /review ID for one flag, for example /review 12
review-unknown = There is no flag #{ $id }.
review-already = Flag #{ $id } was already decided ({ $state ->
        [approved] approved
       *[rejected] rejected
    }); nothing changed.
review-done-approve = Flag #{ $id } approved: what it held is released.
review-done-reject = Flag #{ $id } rejected: { $count } entries ({ $amount }) reversed.
review-freeze-admin = The user is an admin, so they were not frozen.
review-freeze-already = The user was already frozen.
