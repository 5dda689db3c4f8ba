## Texts are HTML (Telegram parse_mode HTML). Arguments are escaped by bot/i18n.py.

start-welcome = 你好，{ $name }！欢迎使用推荐助手。邀请好友注册并借款，即可按规则获得奖励。
risk-notice = <b>风险提示</b>：推荐奖励不是投资收益，也不保证收入；任何人要求你先付钱才能“解锁”或“提现”奖励，都是诈骗；平台绝不会向你索要密码或短信验证码。
start-commands = 你可以使用：
    { $commands }
start-invited-by = 🎉 你已通过 <b>{ $name }</b> 的邀请加入。
start-already-bound = 你已经有邀请人了，邀请关系一经绑定不可更改。
start-not-new = 你之前已使用过本机器人，邀请链接只对新用户生效。
start-not-new-bind-hint = 你之前已使用过本机器人，邀请链接只对新用户生效。如果确实是好友邀请你，可在首次使用后 { $hours } 小时内发送 /bind 邀请码 进行绑定。

code-caption = 你的邀请码：<code>{ $code }</code>
    邀请链接：{ $link }
    好友通过链接或扫码加入后，将与你绑定。
code-share-button = 📤 分享给好友
code-share-text = 我在用这个借款平台，通过我的链接注册可享新人福利：
code-frozen = 你的账户已被冻结，邀请码暂不可用。如有疑问请联系客服。

bind-usage = 用法：/bind 邀请码（例如 /bind ABCD2345）。只能在首次使用本机器人后的规定时间内绑定一次。
bind-confirm = 确认绑定 <b>{ $name }</b>（邀请码 <code>{ $code }</code>）为你的邀请人吗？绑定后不可更改。
bind-yes = ✅ 确认绑定
bind-no = 取消
bind-done = ✅ 绑定成功，你的邀请人是 <b>{ $name }</b>。
bind-cancelled = 已取消，没有进行绑定。
bind-window-closed = 抱歉，绑定只能在首次使用本机器人后的 { $hours } 小时内进行，现已超过期限。
bind-malformed = 这个邀请链接无效（格式不正确），没有进行绑定。请向好友索取正确的链接或邀请码。
bind-unknown-code = 没有找到这个邀请码，没有进行绑定。请核对后重试。
bind-code-off = 这个邀请码暂不可用，没有进行绑定。
bind-own-code = 不能使用自己的邀请码。
bind-already-bound = 你已经有邀请人了，邀请关系一经绑定不可更改。
bind-cycle = 不能绑定到你自己邀请的人名下。
bind-is-bot = 机器人账户不能参与邀请。

invites-title = <b>我的邀请</b>
invites-counts = 第 { $level } 级：{ $count } 人
invites-empty = 还没有人通过你的链接加入。发送 /code 获取你的邀请链接。
invites-recent = 最近加入的直接邀请（第 { $page }/{ $pages } 页）：
invites-row = { $n }. { $name } · { $date }
page-prev = ◀ 上一页
page-next = 下一页 ▶

## Each language is named in itself, whatever the reader's language.
language-name-zh-CN = 中文
language-name-en = English
language-current = ✅ { $name }
language-other = { $name }
language-choose = 请选择语言 / Choose your language:
language-set = 已切换为中文。

help = <b>推荐助手</b>
    { $commands }

cmd-start = 开始使用与风险提示
cmd-code = 我的邀请码、二维码和链接
cmd-invites = 我邀请的人
cmd-bind = 补绑邀请人（限新用户）
cmd-language = 切换语言
cmd-help = 帮助

unknown-command = 没有 /{ $command } 这个命令。发送 /help 查看可用命令。
text-hint = 我只能理解命令。发送 /help 查看可用命令。
media-hint = 我暂时无法处理图片、贴纸或文件。发送 /help 查看可用命令。
edited-ignored = 修改过的消息不会被处理，请重新发送命令。
group-hint = 请在私聊中使用这个命令，以保护你的个人信息。
group-open-button = 打开私聊
callback-expired = 这个按钮已失效。
error-generic = 抱歉，处理时出错了，请稍后再试。

notice-joined = 🎉 有新朋友通过你的链接加入了：<b>{ $name }</b>。发送 /invites 查看。

## Rewards. Amounts arrive formatted (¥50.00); $rule is first_loan | repayment_on_time | second_credit | tier.
rule-name = { $rule ->
        [first_loan] 首笔借款
        [repayment_on_time] 按时还款
        [second_credit] 第二笔授信
        [tier] 阶梯奖励
       *[other] 奖励
    }
start-perk = 🎁 新人福利：{ $perk }
cmd-rewards = 我的奖励与余额
cmd-earnings = 收益明细（按级别、按规则）

rewards-title = <b>我的奖励</b>
rewards-balances = 待入账：{ $pending }
    可提现：{ $available }
    已发放：{ $paid }
rewards-owed = 待抵扣：{ $owed }（已发放的奖励被撤销，将从后续奖励中扣除）
rewards-next-tier = 已有 { $qualified } 位合格好友（已完成首笔借款），再邀请 { $missing } 位达到 { $target } 位，可获阶梯奖励 { $bonus }。
rewards-no-tier = 已有 { $qualified } 位合格好友，所有阶梯奖励均已获得。
rewards-quality = 推荐质量分：{ $score }/100（好友按时还款加分，借款被撤销减分）
rewards-hint = 奖励在持有期结束后入账；若规则要求，需先通过平台的信用审核。发送 /earnings 查看明细。

earnings-title = <b>收益明细</b>
earnings-month = <b>本月</b>：{ $total }
earnings-all-time = <b>累计</b>：{ $total }
earnings-level = · 第 { $level } 级：{ $amount }
earnings-rule = · { rule-name }：{ $amount }
earnings-recent-button = 最近 20 笔记录
earnings-recent-title = <b>最近 { $count } 笔记录</b>
earnings-recent-empty = 还没有任何奖励记录。
earnings-entry = { $date } { $amount } · { $kind ->
        [reward] 第 { $level } 级{ rule-name }奖励
        [tier_bonus] 阶梯奖励
        [reversal] 撤销：{ rule-name }
       *[payout] 发放
    }

notice-reward = 💰 你获得一笔第 { $level } 级{ rule-name }奖励 { $amount }，预计 { $date } 可提现。
notice-reward-held = 💰 你获得一笔第 { $level } 级{ rule-name }奖励 { $amount }。通过平台信用审核后即可入账。
notice-reward-available = ✅ 第 { $level } 级{ rule-name }奖励 { $amount } 已可提现。发送 /rewards 查看。
notice-reward-reversed = ↩️ 因借款取消或风控原因，一笔第 { $level } 级{ rule-name }奖励 { $amount } 已被撤销。
notice-payout = 🏦 平台已向你发放奖励 { $amount }。

## Admins
admin-only = 此命令仅限活动管理员使用。
admin-anonymous = 你正以匿名群管理员身份发言，我无法确认你的身份。请关闭“匿名发言”，或私聊我。
admin-in-private = 管理员命令仅在与我的私聊中可用。

## Risk-education tips and /settings. Tips are tip-1..tip-N, sent in order, one every TIP_INTERVAL_DAYS;
## the code counts them, so add one by appending tip-<N+1> in every language. Each ends with { tips-footer }.
tips-footer = <i>不想再收到安全提示？可在 /settings 中关闭。</i>
tip-1 = 🛡 <b>安全提示：假冒客服</b>
    有人自称“平台客服”打电话或发消息，说你的账户、借款或奖励出了问题需要处理？平台只通过官方 App 联系你。请直接挂断，自己到 App 里核实。

    { tips-footer }
tip-2 = 🛡 <b>安全提示：“先交钱才能提现”</b>
    奖励从来不需要付费“解冻”“激活”或“释放”，也不需要保证金、税费或“验证转账”。要求你先付钱才能提现的，都是诈骗。

    { tips-footer }
tip-3 = 🛡 <b>安全提示：不要出售账户或邀请码</b>
    出售、出租或出借平台账户、邀请码都违反规则，买到的人还能以你的名义借款。被发现在市场上流通的邀请码和账户会被冻结，奖励会被撤销。

    { tips-footer }
tip-4 = 🛡 <b>安全提示：不要虚假邀请</b>
    奖励只给真实借款的真实好友。用借来的手机、买来的账户或花钱雇人注册，都会被风控识别：相关奖励会被撤销，涉及的账户可能被冻结。

    { tips-footer }
tip-5 = 🛡 <b>安全提示：保护好个人信息</b>
    绝不要把短信验证码、密码、支付密码或身份证照片告诉任何人，即使对方自称来自平台。正规人员永远不会向你索要这些信息。

    { tips-footer }
tip-6 = 🛡 <b>安全提示：只在官方 App 借款</b>
    借款和还款都只在平台官方 App 内完成。声称能代你申请、收费“加急审批”，或让你把钱还到个人账户的“中介”，都不是平台的人。

    { tips-footer }
tip-7 = 🛡 <b>安全提示：当心钓鱼链接</b>
    只在官方 App 或自己输入网址打开的官方网站登录。消息里让你登录、“验证身份”或“领取奖励”的链接，可能通向仿冒网站，专门窃取你的密码。

    { tips-footer }
tip-8 = 🛡 <b>安全提示：理性借款</b>
    只借自己需要、能按时还上的金额；逾期会产生费用并影响信用。推荐奖励永远不是借款的理由，也请不要催促好友借款。

    { tips-footer }
tip-9 = 🛡 <b>安全提示：不要共享屏幕</b>
    不要应陌生人要求共享屏幕或安装“远程协助”软件。这样对方能看到你的验证码，当着你的面转走你的钱。

    { tips-footer }
tip-10 = 🛡 <b>安全提示：没有人能花钱“提额”</b>
    声称收费就能提高额度、“修复”征信或保证审批通过的，都是骗局。只有平台自己的审核说了算，而且完全免费。

    { tips-footer }
settings-title = <b>设置</b>
settings-tips-on = 🛡 安全提示：<b>已开启</b>。大约每 { $days } 天在白天发送一条关于防诈骗和理性借款的简短提示；当天若已收到我们的其他消息则不发送。
settings-tips-off = 🛡 安全提示：<b>已关闭</b>。
settings-tips-paused = 🛡 安全提示：<b>{ $on ->
        [yes] 已开启
       *[no] 已关闭
    }</b>。目前本机器人暂不发送提示。
settings-notices-stay = 奖励和邀请通知始终开启：它们关系到你的钱。
settings-tips-turn-off = 🔕 关闭安全提示
settings-tips-turn-on = 🔔 开启安全提示
settings-tips-saved-off = 已关闭安全提示。
settings-tips-saved-on = 已开启安全提示。
cmd-settings = 设置：开启或关闭安全提示

## Admin commands (handlers/admin.py): /stats, /user, /freeze, /unfreeze, /promote, /demote
admin-help-title = <b>管理员命令</b>
cmd-admin-stats = 活动统计与转化漏斗
cmd-admin-user = 查看用户：/user ID
cmd-admin-freeze = 冻结用户：/freeze ID 原因
cmd-admin-unfreeze = 解冻用户：/unfreeze ID
cmd-admin-promote = 设为推广员或管理员：/promote ID agent|admin
cmd-admin-demote = 恢复为普通用户：/demote ID
cmd-admin-broadcast = 群发消息
cmd-admin-broadcast_status = 群发进度
cmd-admin-publish = 发布新的活动规则（TOML 文件）
admin-role-name = { $role ->
        [agent] 推广员
        [admin] 管理员
       *[user] 普通用户
    }
admin-status-name = { $status ->
        [active] 正常
        [frozen] 已冻结
        [blocked] 已屏蔽机器人
       *[other] { $status }
    }
admin-usage-user = 用法：/user ID，例如 /user 123456789
admin-usage-freeze = 用法：/freeze ID 原因，例如 /freeze 123456789 使用虚假账号刷奖励
admin-usage-unfreeze = 用法：/unfreeze ID [原因]
admin-usage-promote = 用法：/promote ID agent|admin [原因]
admin-usage-demote = 用法：/demote ID [原因]
admin-bad-id = “{ $arg }”不是用户 ID：请发送数字形式的 Telegram ID，例如 /user 123456789
admin-unknown-user = 没有 ID 为 { $id } 的用户：此人从未给机器人发过消息，平台也未上报过。
admin-self = 不能对自己执行此操作，请由其他管理员处理。
admin-freeze-no-reason = 冻结必须注明原因（记入审计日志）：/freeze { $id } 原因
admin-freeze-admin = 用户 { $id } 是管理员，管理员不能被冻结。请先取消其管理员身份。
admin-frozen = ❄️ 已冻结用户 { $id }。冻结期间不获得任何奖励，其推荐码也不能绑定新用户；不会通知本人。原因：{ $reason }
admin-already-frozen = 用户 { $id } 已处于冻结状态，未做更改。
admin-unfrozen = ✅ 用户 { $id } 已恢复正常。此后上报的转化会给其发放奖励；冻结期间的奖励不予补发。
admin-not-frozen = 用户 { $id } 未被冻结（状态：{ admin-status-name }），未做更改。
admin-bad-role = “{ $role }”不是可授予的身份：请使用 agent 或 admin。
admin-promoted = ✅ 用户 { $id } 现在是{ $role ->
        [agent] 推广员
       *[admin] 管理员
    }。
admin-already-role = 用户 { $id } 已经是{ $role ->
        [agent] 推广员
       *[admin] 管理员
    }，未做更改。
admin-promote-frozen = 用户 { $id } 已被冻结，请先解冻再设置身份。
admin-config-admin = 用户 { $id } 是通过 ADMIN_IDS（机器人配置）设定的管理员，无法在这里更改其身份。请从 ADMIN_IDS 中删除该 ID 并重启机器人。
admin-demoted = ✅ 用户 { $id } 已恢复为普通用户（原为{ $before ->
        [agent] 推广员
       *[admin] 管理员
    }）。
admin-not-promoted = 用户 { $id } 已经是普通用户，未做更改。

stats-title = <b>活动统计</b> · { $day }
stats-users = 👥 用户：{ $total }（正常 { $active }，冻结 { $frozen }，屏蔽机器人 { $blocked }；仅平台已知 { $platform }）
stats-roles = 推广员：{ $agents } · 管理员：提升 { $admins } 人 + ADMIN_IDS { $configured } 人
stats-bound = 🔗 已绑定推荐人：{ $bound }
stats-levels = 各级推荐：{ $counts }
stats-level = L{ $level } { $count }
stats-events = 📥 今日收到的事件：{ $events }
stats-event = { $type } { $count }
stats-events-none = 📥 今日收到的事件：无
stats-ledger = 💰 账本：奖励 { $reward } · 阶梯奖励 { $tier } · 已撤销 { $reversed } · 已发放 { $paid }
stats-tips-off = 💡 关闭安全提示的用户：{ $count }
stats-flags = 🚩 待 /review 审核的风控标记：{ $count }
stats-funnel = <b>转化漏斗</b>（比例均相对上一步）
    加入 { $joined }
    → 绑定推荐人 { $bound }（{ $bound_pct }）
    → 授信通过 { $approved }（{ $approved_pct }）
    → 首笔借款 { $loan }（{ $loan_pct }）

user-info-none = —
user-info-title = <b>用户 { $id }</b> · { $name }
user-info-role = 身份：{ admin-role-name } · 状态：{ admin-status-name } · 语言：{ $language }
user-info-external = 平台账号：{ $external }
user-info-codes = 推荐码：{ $codes }
user-info-referrer = 推荐人：{ $referrer }
user-info-upline = 上级（由近及远）：{ $upline }
user-info-referrals = 推荐人数：{ $counts }
user-info-balance = 余额：待生效 { $pending } · 可用 { $available } · 已发放 { $paid } · 已撤销 { $reversed } · 已失效 { $lapsed } · 待抵扣 { $owed }
user-info-earnings = 收益：{ $earnings }
user-info-credit-approved = 授信审核：{ $date } 通过
user-info-credit-pending = 授信审核：尚未通过{ $required ->
        [yes] （其奖励需等待审核通过）
       *[no] {""}
    }
user-info-quality = 推荐质量分：{ $score }/100 · 规则版本 { $version }

## Rules and rule changes (/rules, announcements, /publish). $rule as in rule-name; amounts arrive as ¥.
cmd-rules = 当前奖励规则
rules-title = <b>推荐活动规则</b> · 第 { $version } 版
rules-since = 自 { $date }（{ $tz }）起生效。
rules-levels = { $levels ->
        [1] 你邀请的好友（第 1 级）为你带来奖励。
       *[other] 你邀请的好友（第 1 级）以及他们邀请的人（最多到第 { $levels } 级）为你带来奖励。
    }
rules-rewards-title = <b>好友完成以下行为时的奖励</b>
rules-level-amount = 第 { $level } 级 { $amount }
rules-amount-separator = ，
rules-reward = · { rule-name }：{ $amounts }
rules-reward-capped = · { rule-name }：{ $amounts }（每位好友最多 { $cap } 次）
rules-no-rewards = · 本版本不发放奖励。
rules-tiers-title = <b>阶梯奖励</b>（每档一次；完成首笔借款的好友计入）
rules-tier = · { $qualified } 位好友：{ $bonus }
rules-hold = { $days ->
        [0] 奖励即时入账。
       *[other] 奖励在行为发生 { $days } 天后入账。
    }
rules-credit-check = 你通过平台信用审核后奖励才会入账；获得后 { $days } 天内仍未入账的奖励将失效。
rules-no-credit-check = 奖励入账无需信用审核。
rules-perk = 🎁 你邀请的好友可获得：{ $perk }
rules-next = <b>已公告：第 { $version } 版</b>将于 { $date }（{ $tz }）生效。变更内容：
rules-footer = 每笔行为按其发生时有效的规则版本计算奖励。

rulechange-announce = 📢 <b>推荐活动规则变更：第 { $version } 版</b>
    将于 { $date }（{ $tz }）生效。变更内容：
    { $changes }
    生效前发生的行为仍按现行规则计算奖励。发送 /rules 查看完整规则。
rulechange-amount = · { rule-name }，第 { $level } 级：{ $before } → { $after }
rulechange-cap = · { rule-name }，每位好友次数上限：{ $before } → { $after }
rulechange-tier = · { $qualified } 位好友的阶梯奖励：{ $before } → { $after }
rulechange-levels = · 奖励级数：{ $before } → { $after }
rulechange-hold-days = · 奖励入账前的天数：{ $before } → { $after }
rulechange-credit-check = · 入账前需信用审核：{ $before } → { $after }
rulechange-lapse-days = · 通过信用审核的期限（天）：{ $before } → { $after }
rulechange-perk = · 受邀好友的新福利：{ $perk }
rulechange-nothing = · 金额与条件均不变。
rulechange-none = 无
rulechange-no-limit = 不限
rulechange-yes = 是
rulechange-no = 否
rulechange-ack-button = ✅ 我已阅读
rulechange-thanks = 谢谢，已记录。
rulechange-already = 已记录过了。
rulechange-acked = ✅ 你已于 { $date }（{ $tz }）确认阅读。

publish-usage = 用法：/publish 生效时间 [紧急原因]，例如 /publish 2026-12-10T00:00+08:00；然后以 .toml 文件发送新规则。
publish-send-file = 将于 { $date }（{ $tz }）生效。请以 .toml 文件发送新规则。
publish-not-document = 请以 .toml 文件发送规则，或点击“取消”。
publish-too-big = 文件超过 { $kb } KB；规则文件远小于此。
publish-not-text = 文件不是 UTF-8 文本；请发送规则的 .toml 文件。
publish-preview = <b>预览</b>：第 { $version } 版将于 { $date }（{ $tz }）取代第 { $previous } 版。
    将通知 { $recipients } 位用户。变更内容：
publish-urgent = ⚠️ 紧急变更，原因（记入审计日志）：{ $reason }
publish-confirm-button = ✅ 发布
publish-cancel-button = 取消
publish-cancelled = 已取消，未发布任何内容。
publish-stale = 此预览已失效，未发布任何内容。请重新发送 /publish。
publish-done = ✅ 第 { $version } 版已发布，将于 { $date }（{ $tz }）生效，已通知 { $recipients } 位用户。
publish-err-bad-time = “{ $value }”不是有效时间，例如 2026-12-10T00:00+08:00。
publish-err-past = 生效时间 { $date } 已经过去。
publish-err-notice = 规则变更需提前 { $days } 天公告：生效时间不得早于 { $earliest }。如属紧急变更，请在时间后写明原因。
publish-err-invalid = 规则文件未通过校验：{ $detail }
publish-err-levels = 规则有 { $levels } 级，但机器人只保留 { $max } 级（REFERRAL_LEVELS）。
publish-err-not-newer = 第 { $version } 版不比最新发布的第 { $latest } 版新；新规则的版本号须大于 { $latest }。
publish-err-before-latest = 第 { $latest } 版于 { $date } 生效；新版本的生效时间必须晚于它。
publish-err-taken = 第 { $version } 版已被他人发布；本次未发布任何内容。

## Broadcasts
bc-ask = 📣 请发送要群发的消息：文字、带说明的图片、格式都可以。收件人收到的是原样复制，不显示“转发自”。发送 /cancel 取消。
bc-unsupported = 这类消息无法复制给其他人。请发送文字、图片、视频或文件，或发送 /cancel 取消。
bc-pick-audience = 发给谁？（仅限正常状态的用户；已屏蔽机器人或被冻结的用户不会收到）
bc-audience-name = { $audience ->
        [all] 所有用户
        [lang-zh-CN] 使用中文的用户
        [lang-en] 使用英文的用户
        [role-agent] 代理
        [role-admin] 管理员
       *[referrers] 有推荐记录的用户
    }
bc-audience-button = { $audience ->
        [all] 所有人
        [lang-zh-CN] 中文
        [lang-en] English
        [role-agent] 代理
        [role-admin] 管理员
       *[referrers] 有推荐的用户
    }（{ $count }）
bc-nobody = 这个范围内目前没有用户。请换一个，或发送 /cancel 取消。
bc-preview = ☝️ 收件人看到的就是上面这条。
    发送范围：{ bc-audience-name }，共 <b>{ $count }</b> 人。
    确认发送吗？
bc-confirm-button = ✅ 发送给 { $count } 人
bc-cancel-button = 取消
bc-cancelled = 已取消，什么也没有发送。
bc-nothing-to-cancel = 当前没有可以取消的操作。
bc-stale = 这个操作已过期。请重新发送 /broadcast。
bc-already-started = 已经开始发送，群发编号 #{ $id }。
bc-started = 群发 #{ $id } 已开始。
bc-progress-title = 📣 <b>群发 #{ $id }</b> — { $state ->
        [running] 发送中…
        [done] ✅ 已完成
       *[cancelled] ⛔ 已取消
    }
bc-progress-audience = 发送范围：{ bc-audience-name }（{ $total } 人）
bc-progress-counts = 已发送：<b>{ $sent }</b> / { $total }
    失败：{ $failed } · 已屏蔽机器人：{ $blocked } · 已注销：{ $left }
bc-progress-running = 待发送：{ $pending } · 每秒 { $rate } 条 · 预计还需 { $eta }
bc-progress-called-off = 已撤回未发送：{ $cancelled }
bc-progress-took = 用时 { $took }。
bc-duration = { $minutes ->
        [0] { $seconds } 秒
       *[other] { $minutes } 分 { $seconds } 秒
    }
bc-eta-unknown = （估算中）
bc-cancel-broadcast-button = ⛔ 取消群发
bc-cancel-done = 群发 #{ $id } 已取消：{ $count } 条消息不会再发送。
bc-cancel-too-late = 群发 #{ $id } { $state ->
        [done] 已经发送完毕
       *[cancelled] 已经取消
    }。
bc-status-usage = 用法：/broadcast_status [编号]（不带编号显示最新一次群发）
bc-status-none = 还没有群发记录。发送 /broadcast 开始。
bc-status-unknown = 没有编号为 #{ $id } 的群发。

## Groups and the inline invite card (handlers/groups.py, handlers/inline.py): group-, top-, inline-
cmd-invite = 获取群邀请链接
group-not-admin = 我无法在本群创建邀请链接：我还不是本群管理员。请群管理员把我设为管理员，并开启“通过链接邀请用户”权限。
group-no-invite-right = 我无法在本群创建邀请链接：我是管理员，但没有“通过链接邀请用户”权限。请群管理员在我的管理员权限中开启它。
group-ready = 大家好！在本群发送 /invite 即可获取你在本群的专属邀请链接（我会私聊发给你）；发送 /top 查看本周邀请榜。
group-start-me-first = 邀请链接只能私聊发给你，但你还没有启动我。请先打开与我的私聊并点击“开始”，再回到本群发送 /invite。
group-invite-anonymous = 你正在以匿名身份发言，我无法确定该把链接发给谁。请在与我的私聊中发送 /invite。
group-invite-link = 你在 <b>{ $title }</b> 的专属邀请链接：
    { $link }
group-invite-rule = 通过它入群的人{ $stay }计入你在本群 /top 的邀请数；他们之后若启动本机器人，将成为你邀请的用户。
group-stay-hours = 在群内停留满 { $hours } 小时后
group-stay-none = 一入群即
group-invite-failed = 抱歉，暂时无法创建链接，请稍后再试。
group-invite-pick = 你想获取哪个群的邀请链接？
group-invite-none = 我还没有在任何由我担任管理员的群里见过你。请把我拉进你的群并设为管理员（开启“通过链接邀请用户”权限），然后在群里发送 /invite。
group-invite-not-member = 你似乎已不在该群中，无法为你生成该群的邀请链接。
top-title = <b>本周邀请榜</b>（自 { $since } 起）
top-line = { $rank }. { $name } — { $count } 人
top-empty = 本周还没有人通过邀请链接带来新成员。发送 /invite 获取你的专属链接。
top-rule = 统计规则：通过成员 /invite 链接入群的人，{ $stay }计入。
top-off = 本群已关闭邀请榜。群管理员可发送 /top on 重新开启。
top-turned-off = 已关闭本群邀请榜。发送 /top on 可重新开启。
top-turned-on = 已开启本群邀请榜。
top-admins-only = 只有本群管理员可以开启或关闭邀请榜。
top-private = /top 需要在群里使用：在我所在的群中发送，即可查看本周邀请榜。
inline-card-title = 发送我的邀请卡片
inline-card-description = 你的专属加入链接，只有你能看到这张卡片。
inline-card-text = 🎁 <b>{ $name }</b> 邀请你加入！
    通过我的链接注册：{ $link }
inline-card-perk = 新成员福利：{ $perk }
inline-join-button = 加入
inline-start-button = 打开机器人，获取你的邀请卡片
inline-frozen-button = 你的邀请卡片暂不可用

## Agents: /station, /poster, /residents (handlers/stations.py, poster.py, residents.py). Poster texts
## (poster-scan, -code, -perk, -join, -reward, -rules-hint, -risk) are printed in the PDF too: plain text, no HTML.
agent-help-title = <b>站点工具</b>
cmd-agent-station = 我的站点：新增、列表、改名、停用或启用
cmd-agent-poster = 站点海报（可打印 PDF）和手机图片
cmd-agent-residents = 各站点居民转化：进入、绑定、授信、首借、按时还款
agent-only = 站点工具仅供社区站点代理使用。如果你负责站点，请联系管理员开通。
agent-frozen = 你的账户已被冻结，站点工具暂不可用。如有疑问请联系客服。
station-usage = <b>站点</b>
    /station add <i>名称</i> — 新建站点邀请码（例如 /station add 幸福里社区站）
    /station list — 我的站点、链接及各站点已绑定人数
    /station rename <i>邀请码 新名称</i>
    /station off <i>邀请码</i> — 停用后该链接不再绑定新用户（用 /station on <i>邀请码</i> 重新启用）
    站点可用邀请码或名称指定。
station-bad-label = 站点名称需为 1 到 { $max } 个字符，且不能包含控制字符。
station-label-taken = 你已经有同名站点了（名称不区分大小写），请换一个名称。
station-too-many = 你的站点已达上限 { $max } 个。可以把不再使用的站点改名后继续使用。
station-unknown = 你没有“{ $ref }”这个站点。发送 /station list 查看你的站点邀请码和名称。
station-added = ✅ 已创建站点 <b>{ $label }</b>。
    邀请码：<code>{ $code }</code>
    链接：{ $link }
    居民通过该链接加入后将绑定到你名下，并记录该站点名称。发送 /poster { $code } 获取可打印的海报。
station-list-empty = 你还没有站点。发送 /station add <i>名称</i> 新建一个。
station-list-title = <b>我的站点</b>（{ $count } 个）
station-list-item = { $n }. <b>{ $label }</b> · { $state ->
        [on] 🟢 启用中
       *[off] ⚪ 已停用
    } · 已绑定 { $bound } 人
    <code>{ $code }</code> · { $link }
station-list-footer = /poster <i>邀请码</i> 获取海报 · /residents 查看转化 · /station 查看命令
station-rename-same = 该站点的名称已经是 <b>{ $label }</b>。
station-renamed = ✅ 站点 <code>{ $code }</code> 已由 <b>{ $before }</b> 改名为 <b>{ $after }</b>。已绑定的居民保留其加入时的站点名称。
station-already = 站点 <b>{ $label }</b>（<code>{ $code }</code>）已经是{ $state ->
        [on] 启用
       *[off] 停用
    }状态。
station-switched-off = ⚪ 站点 <b>{ $label }</b>（<code>{ $code }</code>）已停用：新用户打开其链接会收到“暂不可用”的提示，不会绑定任何人。已绑定的居民仍归属于你。发送 /station on { $code } 可重新启用。
station-switched-on = 🟢 站点 <b>{ $label }</b>（<code>{ $code }</code>）已重新启用，其链接可以绑定新用户。
poster-usage = 请指定站点：发送 /poster 加邀请码或名称，例如 /poster { $codes }
poster-station-off = 站点 <b>{ $label }</b>（<code>{ $code }</code>）已停用，海报不会绑定任何人。请先发送 /station on { $code } 启用。
poster-pdf-caption = 🖨 <b>{ $label }</b> 的 A4 海报：打印后张贴在站点。
poster-caption-title = 📱 <b>{ $label }</b>：请居民扫描此图片中的二维码。
poster-caption-link = 链接：{ $link }
poster-scan = 用手机相机扫码，或在 Telegram 中打开下方链接
poster-code = 邀请码：{ $code }
poster-perk = 新用户福利：{ $perk }
poster-join = 通过本站点加入，参加推荐活动。
poster-reward = 邀请好友完成首笔借款，你可获得 { $amount } 奖励。
poster-rules-hint = 活动规则请向机器人发送 /rules 查看。
poster-risk = 风险提示：推荐奖励不是投资收益；任何要求你先付款才能“解锁”奖励的都是诈骗。
residents-title = <b>各站点居民转化</b>
    每行依次为：今天（{ $today }）· 本周（{ $week } 周一起）· 累计
residents-all-stations = <b>全部 { $count } 个站点合计</b>
residents-station = <b>{ $label }</b> · <code>{ $code }</code>{ $state ->
        [on] {""}
       *[off] {" "}· ⚪ 已停用
    }
residents-step = { $step ->
        [joined] 扫码进入
        [bound] 绑定
        [credit_approved] 授信通过
        [first_loan] 首笔借款
       *[on_time] 按时还款（次）
    }：{ $today } · { $week } · { $total }
residents-footer = 扫码进入：所有通过站点链接打开机器人的人（无论是否绑定）。按时还款按次数计，不按人数。点击下方按钮导出居民名单（姓名已打码）。
residents-none-yet = 还没有居民通过你的站点绑定。
residents-export-button = 📄 导出 CSV
residents-export-caption = 通过你的站点绑定的居民：{ $count } 人（姓名已打码）。
residents-csv-station = 站点
residents-csv-code = 邀请码
residents-csv-resident = 居民
residents-csv-bound-at = 绑定时间
residents-csv-credit-approved = 授信通过
residents-csv-first-loan = 首笔借款
residents-csv-on-time = 按时还款次数

## Anti-fraud review (handlers/review.py, bot/services/fraud): review-, fraud-
cmd-admin-review = 审核风控标记：/review [编号]
fraud-notice-pending = 💰 你获得一笔第 { $level } 级{ rule-name }奖励 { $amount }，目前显示为待入账；可用时我会通知你。
review-kind-name = { $kind ->
        [velocity_hour] 一小时内绑定过多
        [velocity_day] 一天内绑定过多
        [burst] 短时间集中绑定
        [idle_tier] 下线不活跃却获得阶梯奖励
       *[fake_referees] 虚假下线（机器人、已注销账号）
    }
review-flag-title = 🚩 <b>标记 #{ $id }</b> · { review-kind-name } · 发现于 { $date }
review-user = 用户：{ $name }（{ $id }）
review-ev-velocity-hour = 最近一小时绑定 { $count } 人（上限 { $limit }）。
review-ev-velocity-day = { $day } 当天绑定 { $count } 人（上限 { $limit }）。
review-ev-burst = { $seconds } 秒内绑定 { $count } 人（{ $limit } 人即视为集中绑定）。
review-ev-idle-tier = 阶梯奖励到账时，{ $referees } 位直接下线中有 { $idle } 位（{ $share }%）在平台上没有任何行为（规则：至少 { $min } 位下线且 { $limit }% 不活跃）。
review-ev-fake-referees = 虚假下线 { $count } 个：机器人 { $bots } 个，已注销账号 { $deleted } 个，经其群邀请链接入群的机器人 { $group_bots } 个。
review-peak = 迄今最高计数：{ $peak }。
review-agent = 该用户是推广员，适用推广员的较高上限。
review-timeline = 绑定时间（本地时间）：{ $times }
review-others = 该用户的其他未处理标记：{ $flags }
review-held = 冻结中的奖励：{ $amount }
review-decided = { $decision ->
        [approve] ✅ 已由 { $admin } 于 { $date } 批准：{ $amount } 已放行。
        [reject] ❌ 已由 { $admin } 于 { $date } 驳回：{ $amount } 已冲回。
       *[reject_freeze] ❌ 已由 { $admin } 于 { $date } 驳回并冻结用户：{ $amount } 已冲回。
    }
review-button-approve = ✅ 批准
review-button-reject = ❌ 驳回
review-button-freeze = 🧊 驳回并冻结
review-queue-title = <b>未处理标记：{ $total } 个</b>（按时间先后，此处显示 { $shown } 个）。批准会放行被暂扣的奖励，驳回会将其冲回。
review-empty = 没有未处理的标记。👍
review-usage = 用法：/review 查看未处理标记队列，/review 编号 查看单个标记，例如 /review 12
review-unknown = 没有编号为 #{ $id } 的标记。
review-already = 标记 #{ $id } 已处理过（{ $state ->
        [approved] 已批准
       *[rejected] 已驳回
    }），未做任何更改。
review-done-approve = 标记 #{ $id } 已批准：暂扣的奖励已放行。
review-done-reject = 标记 #{ $id } 已驳回：{ $count } 笔（{ $amount }）已冲回。
review-freeze-admin = 该用户是管理员，未被冻结。
review-freeze-already = 该用户此前已被冻结。
