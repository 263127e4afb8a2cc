package account

import "github.com/customerhub/hubid/idp/i18n"

// KindMessages are the history sentences of the event kinds that
// Messages does not name: sign-ins to services and sign-outs from each
// place, refresh tokens, consent, organizations, login IDs, and the
// operators' changes. Every kind the code writes has a sentence
// (TestEveryAuditKindHasASentence in idp); register them with Messages.
var KindMessages = i18n.Table{
	"history.kind.signin.sso":                {EN: "Signed in to a service with single sign-on", JA: "シングルサインオンでサービスにサインイン"},
	"history.kind.signout.hub":               {EN: "Signed out of the Customer Hub", JA: "カスタマーハブからサインアウト"},
	"history.kind.signout.service":           {EN: "Signed out through a service", JA: "サービスからサインアウト"},
	"history.kind.signout.backchannel":       {EN: "The service was told that you signed out", JA: "サービスにサインアウトを通知"},
	"history.kind.token.refresh.started":     {EN: "The service received continuing access (refresh token)", JA: "サービスに継続的なアクセスを付与（リフレッシュトークン）"},
	"history.kind.token.refresh.revoked":     {EN: "The service's continuing access ended (refresh token revoked)", JA: "サービスの継続的なアクセスを終了（リフレッシュトークンの取り消し）"},
	"history.kind.token.refresh.grace_retry": {EN: "The service repeated a renewal of its access", JA: "サービスがアクセスの更新を再試行"},
	"history.kind.consent.granted":           {EN: "Allowed the service to read your information", JA: "サービスに情報の参照を許可"},
	"history.kind.consent.denied":            {EN: "Refused the service access to your information", JA: "サービスへの情報の提供を拒否"},
	"history.kind.org.member.added":          {EN: "Added to an organization", JA: "組織のメンバーに追加"},
	"history.kind.org.member.role_changed":   {EN: "Account type in an organization changed", JA: "組織でのアカウント種別を変更"},
	"history.kind.org.member.removed":        {EN: "Removed from an organization", JA: "組織のメンバーから削除"},
	"history.kind.org.invitation.created":    {EN: "Invitation sent", JA: "招待を送信"},
	"history.kind.org.invitation.resent":     {EN: "Invitation sent again", JA: "招待を再送信"},
	"history.kind.org.invitation.cancelled":  {EN: "Invitation cancelled", JA: "招待を取り消し"},
	"history.kind.org.invitation.accepted":   {EN: "Joined an organization by invitation", JA: "招待を承諾して組織に参加"},
	"history.kind.org.application.created":   {EN: "Applied for a service for your organization", JA: "組織としてサービスの利用を申請"},
	"history.kind.org.application.approved":  {EN: "Service application approved", JA: "サービス利用申請の承認"},
	"history.kind.org.application.rejected":  {EN: "Service application rejected", JA: "サービス利用申請の却下"},
	"history.kind.org.created":               {EN: "Organization created", JA: "組織を作成"},
	"history.kind.org.updated":               {EN: "Organization changed", JA: "組織を変更"},
	"history.kind.org.deleted":               {EN: "Organization deleted", JA: "組織を削除"},
	"history.kind.org.entitlement.granted":   {EN: "The organization may now use a service", JA: "組織にサービスの利用を許可"},
	"history.kind.org.entitlement.revoked":   {EN: "The organization may no longer use a service", JA: "組織のサービス利用を終了"},
	"history.kind.legacy.signin.success":     {EN: "Signed in with a login ID to pre-register", JA: "事前登録のためログイン IDでサインイン"},
	"history.kind.legacy.signin.failure":     {EN: "Sign-in with a login ID failed", JA: "ログイン IDでのサインイン失敗"},
	"history.kind.legacy.registration.sent":  {EN: "Pre-registration link sent", JA: "事前登録用リンクを送信"},
	"history.kind.legacy.reminder.sent":      {EN: "Pre-registration reminder sent", JA: "事前登録のお知らせを送信"},
	"history.kind.legacy.account.created":    {EN: "Account created by pre-registration", JA: "事前登録でアカウントを作成"},
	"history.kind.legacy.linked":             {EN: "Login ID linked to your account", JA: "ログイン IDをアカウントに紐付け"},
	"history.kind.legacy.unlinked":           {EN: "Login ID unlinked from your account", JA: "ログイン IDの紐付けを解除"},
	"history.kind.legacy.import":             {EN: "Login IDs imported", JA: "ログイン IDを取り込み"},
	"history.kind.user.created":              {EN: "Account created", JA: "アカウントを作成"},
	"history.kind.user.updated":              {EN: "Account changed by an operator", JA: "運用者がアカウントを変更"},
	"history.kind.user.deleted":              {EN: "Account deleted", JA: "アカウントを削除"},
	"history.kind.service.created":           {EN: "Service registered", JA: "サービスを登録"},
	"history.kind.service.updated":           {EN: "Service changed", JA: "サービスを変更"},
	"history.kind.service.deleted":           {EN: "Service removed", JA: "サービスを削除"},
	"history.kind.client.created":            {EN: "Service connection registered", JA: "サービスの接続設定を登録"},
	"history.kind.client.updated":            {EN: "Service connection changed", JA: "サービスの接続設定を変更"},
	"history.kind.client.secret.rotated":     {EN: "Service connection secret replaced", JA: "サービスの接続シークレットを更新"},
	"history.kind.client.deleted":            {EN: "Service connection removed", JA: "サービスの接続設定を削除"},
	"history.kind.key.next":                  {EN: "New signing key prepared", JA: "新しい署名鍵を準備"},
	"history.kind.key.active":                {EN: "Signing key put into use", JA: "署名鍵の使用を開始"},
	"history.kind.key.retired":               {EN: "Signing key retired", JA: "署名鍵の使用を終了"},
	"history.kind.key.removed":               {EN: "Signing key removed", JA: "署名鍵を削除"},
}
