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
