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
