package mail

import "github.com/customerhub/hubid/idp/i18n"

// Messages are the mail templates' strings; pass them to i18n.New.
var Messages = i18n.Table{
	"mail.greeting":        {EN: "Hello %s,", JA: "%s 様"},
	"mail.greeting.anon":   {EN: "Hello,", JA: "お客様"},
	"mail.link.expires":    {EN: "The link works once and expires in %d minutes.", JA: "このリンクは1回だけ使用でき、%d 分後に無効になります。"},
	"mail.link.fallback":   {EN: "If the button does not work, copy this address into your browser:", JA: "ボタンが機能しない場合は、次のアドレスをブラウザに貼り付けてください:"},
	"mail.ignore":          {EN: "If you did not ask for this, ignore this email.", JA: "お心当たりがない場合は、このメールを無視してください。"},
	"mail.notyou":          {EN: "If this was not you, contact the helpdesk immediately.", JA: "お心当たりがない場合は、すぐにヘルプデスクにご連絡ください。"},
	"mail.notyou.contact":  {EN: "If this was not you, contact the helpdesk immediately: %s", JA: "お心当たりがない場合は、すぐにヘルプデスクにご連絡ください: %s"},
	"mail.footer.auto":     {EN: "This email was sent automatically by the Customer Hub. Replies to it are not read.", JA: "このメールはカスタマーハブから自動送信されています。返信いただいても対応できません。"},
	"mail.footer.helpdesk": {EN: "Questions? Contact the helpdesk: %s", JA: "お問い合わせ先（ヘルプデスク）: %s"},

	"mail.password_reset.subject": {EN: "[Customer Hub] Reset your password", JA: "【カスタマーハブ】パスワードの再設定"},
	"mail.password_reset.intro":   {EN: "We received a request to reset the password of your Customer Hub account. Open the link below to set a new password.", JA: "カスタマーハブのアカウントのパスワード再設定を受け付けました。下のリンクを開いて、新しいパスワードを設定してください。"},
	"mail.password_reset.action":  {EN: "Set a new password", JA: "新しいパスワードを設定する"},
	"mail.password_reset.mfa":     {EN: "Resetting your password also turns off two-step verification; set it up again after you sign in.", JA: "パスワードを再設定すると、2 段階認証も解除されます。サインイン後にもう一度設定してください。"},
	"mail.password_reset.keep":    {EN: "If you did not ask for this, ignore this email: your password stays as it is.", JA: "お心当たりがない場合は、このメールを無視してください。パスワードは変更されません。"},

	"mail.password_reset_done.subject": {EN: "[Customer Hub] Your password was reset", JA: "【カスタマーハブ】パスワードが再設定されました"},
	"mail.password_reset_done.body":    {EN: "Your Customer Hub password was reset and two-step verification was turned off. You have been signed out on every device.", JA: "カスタマーハブのパスワードが再設定され、2 段階認証が解除されました。すべての端末でサインアウトされています。"},
	"mail.password_reset_done.mfa":     {EN: "Sign in with your new password and set up two-step verification again.", JA: "新しいパスワードでサインインし、2 段階認証をもう一度設定してください。"},

	"mail.verify_email.subject": {EN: "[Customer Hub] Confirm your email address", JA: "【カスタマーハブ】メールアドレスの確認"},
	"mail.verify_email.intro":   {EN: "Open the link below to confirm this email address for your Customer Hub account.", JA: "下のリンクを開いて、このメールアドレスをカスタマーハブのアカウントで使用することを確認してください。"},
	"mail.verify_email.action":  {EN: "Confirm email address", JA: "メールアドレスを確認する"},

	"mail.email_change_notice.subject": {EN: "[Customer Hub] Your email address is being changed", JA: "【カスタマーハブ】メールアドレス変更のお知らせ"},
	"mail.email_change_notice.body":    {EN: "A change of your Customer Hub account's email address to %s was requested.", JA: "カスタマーハブのアカウントのメールアドレスを %s に変更する手続きが行われました。"},
	"mail.email_change_notice.after":   {EN: "Once the new address is confirmed, you sign in with it, and mail goes there instead of to this address.", JA: "新しいアドレスの確認が完了すると、サインインには新しいアドレスを使用し、メールはこのアドレスではなく新しいアドレスに届きます。"},

	"mail.password_changed.subject": {EN: "[Customer Hub] Your password was changed", JA: "【カスタマーハブ】パスワードが変更されました"},
	"mail.mfa_removed.subject":      {EN: "[Customer Hub] Two-step verification was removed", JA: "【カスタマーハブ】2 段階認証が解除されました"},
	"mail.mfa_removed.body":         {EN: "Two-step verification (authenticator app) was removed from your Customer Hub account. Your next sign-in offers to set it up again: Account Settings → Multifactor Authentication → Setup.", JA: "カスタマーハブのアカウントの 2 段階認証（認証アプリ）が解除されました。次回のサインイン時に再設定できます（アカウント設定 → 多要素認証 → 設定）。"},
	"mail.password_changed.body":    {EN: "The password of your Customer Hub account was changed.", JA: "カスタマーハブのアカウントのパスワードが変更されました。"},

	"mail.role.administrator": {EN: "administrator", JA: "管理者"},
	"mail.role.normal":        {EN: "normal user", JA: "一般ユーザー"},
	"mail.role.visitor":       {EN: "visitor", JA: "閲覧ユーザー"},

	"mail.org_invitation.subject":  {EN: "[Customer Hub] You are invited to join an organization", JA: "【カスタマーハブ】組織への招待"},
	"mail.org_invitation.intro":    {EN: "You are invited to join the organization %s on the Customer Hub.", JA: "カスタマーハブの組織「%s」に招待されました。"},
	"mail.org_invitation.intro.by": {EN: "%s invites you to join the organization %s on the Customer Hub.", JA: "%s さんから、カスタマーハブの組織「%s」に招待されました。"},
	"mail.org_invitation.role":     {EN: "Your account type will be: %s.", JA: "アカウント種別: %s"},
	"mail.org_invitation.action":   {EN: "Accept the invitation", JA: "招待を承諾する"},
	"mail.org_invitation.expires":  {EN: "The link works once and expires in %d days.", JA: "このリンクは1回だけ使用でき、%d 日後に無効になります。"},
	"mail.org_invitation.account":  {EN: "If you have a Customer Hub account with this address, sign in with it; otherwise you set your name and a password.", JA: "このメールアドレスのカスタマーハブのアカウントをお持ちの場合はサインインしてください。お持ちでない場合は、お名前とパスワードを設定します。"},

	"mail.org_application_approved.subject": {EN: "[Customer Hub] Your service application was approved", JA: "【カスタマーハブ】サービス利用申請が承認されました"},
	"mail.org_application_approved.body":    {EN: "The application of %s to use %s was approved.", JA: "%s による %s の利用申請が承認されました。"},
	"mail.org_application_approved.next":    {EN: "The members of the organization can sign in to the service now.", JA: "組織のメンバーは、このサービスにサインインできるようになりました。"},

	"mail.org_application_rejected.subject": {EN: "[Customer Hub] Your service application was not approved", JA: "【カスタマーハブ】サービス利用申請は承認されませんでした"},
	"mail.org_application_rejected.body":    {EN: "The application of %s to use %s was not approved.", JA: "%s による %s の利用申請は承認されませんでした。"},
	"mail.org_application_rejected.reason":  {EN: "Reason:", JA: "理由:"},
	"mail.org_application_rejected.again":   {EN: "You may apply again from the organization console once the matter is settled.", JA: "問題が解決しましたら、組織の管理画面から再度申請できます。"},
	"mail.legacy_register.subject":          {EN: "[Customer Hub] Finish registering your email address", JA: "【カスタマーハブ】メールアドレス登録の完了"},
	"mail.legacy_register.intro":            {EN: "You asked to register this email address for login ID %s of %s. Open the link below to finish: you will set a password, or sign in if you already have an account.", JA: "%[2]s のログイン ID %[1]s に、このメールアドレスの登録が申請されました。下のリンクを開いて登録を完了してください（パスワードを設定するか、アカウントをお持ちの場合はサインインします）。"},
	"mail.legacy_register.action":           {EN: "Finish registration", JA: "登録を完了する"},
	"mail.legacy_register.shared":           {EN: "If this is a group or shared mailbox, everyone who reads it can reset the password of the account.", JA: "グループや共有のメールアドレスの場合、このメールを読めるすべての人がアカウントのパスワードを再設定できます。"},
	"mail.legacy_reminder.subject":          {EN: "[Customer Hub] Register your personal email address before the deadline", JA: "【カスタマーハブ】期限までに個人のメールアドレスを登録してください"},
	"mail.legacy_reminder.intro":            {EN: "Nobody has registered a personal email address for login ID %s of %s (%s) yet.", JA: "%[2]s のログイン ID %[1]s（%[3]s）には、まだ個人のメールアドレスが登録されていません。"},
	"mail.legacy_reminder.ends":             {EN: "Pre-registration ends on %s. After the switch-over, shared login IDs can no longer be used to sign in: everyone who uses this login ID should register their own email address before then.", JA: "事前登録の期限は %s です。切り替え後は共有のログイン ID ではサインインできなくなります。このログイン ID をお使いの方は、それまでに各自のメールアドレスを登録してください。"},
	"mail.legacy_reminder.how":              {EN: "Open the page below, choose the service, sign in with the login ID and its current password, and press Register.", JA: "下のページを開き、サービスを選んで、ログイン ID と現在のパスワードでサインインし、「登録」を押してください。"},
	"mail.legacy_reminder.action":           {EN: "Register now", JA: "今すぐ登録する"},
	"mail.legacy_reminder.why":              {EN: "You receive this message because this address is the contact of the login ID. It is sent once.", JA: "このアドレスがログイン ID の連絡先として登録されているため、このメールをお送りしています（送信は 1 回のみです）。"},
}
