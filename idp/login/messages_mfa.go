package login

import "github.com/customerhub/hubid/idp/i18n"

// MFAMessages are the second step's strings (the setup form's own strings,
// "mfa.*", are idp/mfaui's, shared with account settings).
var MFAMessages = i18n.Table{
	"signin.mfa.title":          {EN: "Two-step verification", JA: "2 段階認証"},
	"signin.mfa.help":           {EN: "Enter the 6-digit code shown in your authentication app.", JA: "認証アプリに表示されている6桁のコードを入力してください。"},
	"signin.mfa.code":           {EN: "6-digit code", JA: "6桁のコード"},
	"signin.mfa.submit":         {EN: "Verify", JA: "確認"},
	"signin.mfa.use.recovery":   {EN: "Use a recovery code instead", JA: "リカバリーコードを使用する"},
	"signin.mfa.use.app":        {EN: "Use the code of your authentication app", JA: "認証アプリのコードを使用する"},
	"signin.mfa.recovery.help":  {EN: "Enter one of the recovery codes you saved when you set up two-step verification. Each code works once.", JA: "2 段階認証の設定時に保存したリカバリーコードを1つ入力してください。各コードは1回だけ使用できます。"},
	"signin.mfa.recovery.label": {EN: "Recovery code", JA: "リカバリーコード"},
	"signin.mfa.wrong":          {EN: "The code is incorrect or has already been used. Enter the current code.", JA: "コードが正しくないか、すでに使用されています。現在のコードを入力してください。"},
	"signin.mfa.expired":        {EN: "The sign-in took too long. Please sign in again.", JA: "サインインの有効期限が切れました。もう一度サインインしてください。"},
	"signin.mfa.required":       {EN: "Two-step verification is required for this sign-in.", JA: "このサインインには 2 段階認証が必要です。"},
	"signin.mfa.setup.title":    {EN: "Set up two-step verification", JA: "2 段階認証の設定"},
	"signin.mfa.setup.forced":   {EN: "Your organization (or the service you are signing in to) requires two-step verification. Set it up now to continue.", JA: "組織（またはサインイン先のサービス）で 2 段階認証が必須になっています。続行するには設定してください。"},
	"signin.mfa.setup.offered":  {EN: "Two-step verification was removed from your account. We recommend setting it up again now.", JA: "アカウントの 2 段階認証が解除されています。今すぐ再設定することをお勧めします。"},
	"signin.mfa.setup.skip":     {EN: "Not now", JA: "後で設定する"},
	"signin.mfa.continue":       {EN: "I have saved the codes — continue", JA: "コードを保存しました（続行）"},
}
