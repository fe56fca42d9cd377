package web

import "fmt"

// surveyWords are the resident's messages worded for a survey (a manifest
// of kind "survey"): 回答 and "answer" where an election says 投票 and
// "vote" or "ballot". A page about a survey looks a key up here first,
// then in the catalogue; both languages have the same keys, and each is a
// key of the catalogue with the same placeholders (TestSurveyWords).
var surveyWords = map[string]map[string]string{
	"ja": {
		"booth.register.voter":            "整理番号",
		"booth.register.voter.hint":       "お知らせの「整理番号」欄に書かれています。全角・半角、大文字・小文字は区別しません。",
		"booth.js.needfields":             "整理番号とワンタイムコードを入力してください。",
		"console.letter.head":             "アンケートご回答のお願い",
		"console.letter.voter":            "整理番号",
		"console.letter.booth":            "回答ページ",
		"console.letter.step1":            "回答ページを開き、整理番号とワンタイムコードを入力します。",
		"console.letter.step2":            "質問に答えて送信します。回答はあなたの端末で暗号化されます。締切までは何度でも回答し直せます。",
		"console.letter.step3":            "表示される追跡コードを控えておくと、公開掲示板で自分の回答が載っていることを確かめられます。",
		"console.letter.more":             "アンケートと結果について：",
		"booth.register.intro":            "お知らせに書かれた番号とコードを入力してください。確認が済むと、この端末に「回答用の鍵」（資格情報）が作られます。鍵には名前が含まれず、誰のものか分からない形で署名されるため、回答内容とあなたを結びつけることはできません。",
		"booth.register.file.hint":        "別の端末で保存した資格情報ファイル（koe-credential.json）を読み込むと、その資格情報で回答し直せます。",
		"booth.revote.note":               "この端末のこの登録で、すでに回答しています。もう一度回答すると前の回答は置き換えられ、最後の回答だけが集計されます。回答し直したことは公開掲示板で誰でも分かるため、回答を強いられたときの対策にはなりません。別の方は「別の人に交代する」を押してください。",
		"booth.review.sealed":             "暗号化された回答の追跡コード:",
		"booth.review.cast":               "この内容で送信する",
		"booth.challenge.intro":           "暗号化された回答を試しに「開封」して、正しく暗号化されていたかを確かめられます。開封した回答は集計されず、内容は公開掲示板で公開されます。確かめたあと、もう一度暗号化してから送信します。",
		"booth.challenge.tracking":        "開封した回答の追跡コード",
		"booth.challenge.after":           "この回答は集計されません。開封した回答は公開掲示板に載り、誰でも同じ確認ができます。",
		"booth.receipt.ok":                "回答を受け付けました。公開掲示板に記録されています。",
		"booth.receipt.verified":          "この端末で確認しました: 掲示板の記録にはこの暗号化された回答がそのまま入っており、掲示板の署名付きの要約（チェックポイント）に含まれています。",
		"booth.receipt.unverified":        "警告: この端末では受付票を確認できませんでした。受付票を保存し、「受付票の確認」ページで確かめるか、このアンケートの問い合わせ先に連絡してください。",
		"booth.receipt.counter":           "この登録での回答回数",
		"booth.receipt.keep":              "追跡コードで、いつでもあなたの回答が掲示板にあることを確かめられます。追跡コードからあなたの回答内容は分かりません。",
		"booth.receipt.revote.h":          "回答し直す",
		"booth.receipt.revote":            "締め切りまでは何度でも回答し直せます。最後の回答だけが集計されます。ただし、同じ資格情報で回答し直したかどうか、いつ回答し直したかは公開掲示板で誰でも見られます。回答し直すことは、誰かに回答を強いられたり買収されたりしたときの対策にはなりません。",
		"booth.receipt.revote.button":     "もう一度回答する",
		"booth.credential.intro":          "資格情報はこの端末のブラウザーに保存されています。別の端末で回答し直すには、資格情報ファイルを保存して持ち運んでください。共用の端末では、消去してください。",
		"booth.who.intro":                 "この端末には、このアンケートに登録した人の資格情報が保存されています。ご自分の登録を選んでください。ご家族など別の人は、ご自分のお知らせのコードで登録してください。ほかの人の登録で回答すると、その人の回答が置き換えられてしまいます。",
		"booth.js.casting":                "送信しています…(ほかの回答とまとめて掲示板に記録するため、数秒かかることがあります)",
		"booth.js.spoiled.ok":             "確認できました。開封した回答には、あなたが選んだとおりの内容が暗号化されていました。",
		"booth.js.spoiled.bad":            "警告: 開封した回答の中身があなたの回答と一致しません。この端末では回答せず、このアンケートの問い合わせ先に連絡してください。",
		"booth.js.confirm.forget":         "この端末から資格情報を消去しますか。ファイルを保存していなければ、回答し直せなくなります。",
		"booth.js.err.already-registered": "このコードはすでに使われています。資格情報は1人に1つだけ発行されます。以前の端末で回答し直すか、資格情報ファイルを読み込んでください。",
		"booth.js.err.closed":             "受付は終了しました。回答できません。",
		"booth.js.err.replay":             "この資格情報では、より新しい回答がすでに受け付けられています。ページを読み込み直してください。",
		"booth.js.err.wrong-counter":      "この資格情報の回答の順番が掲示板と合いません。ページを読み込み直して、もう一度送信してください。",
		"booth.js.err.too-many-casts":     "この資格情報での回答が短い間に多すぎます。1分ほど待ってから、もう一度送信してください。最後の回答だけが集計されます。",
		"booth.js.err.config":             "このアンケートの設定を確認できませんでした。回答しないでください: %s",
		"booth.js.final.none":             "この端末にはこのアンケートの受付票がありません。受付票ファイルを保存していれば、「受付票の確認」ページで確かめられます。",
	},
	"en": {
		"booth.register.voter":            "Reference number",
		"booth.register.voter.hint":       "It is on your letter, under “Reference number”. Full-width or half-width, capitals or not: either will do.",
		"booth.js.needfields":             "Enter your reference number and one-time code.",
		"console.letter.head":             "Please answer our survey",
		"console.letter.voter":            "Reference number",
		"console.letter.booth":            "Where to answer",
		"console.letter.step1":            "Open the survey page and enter your reference number and one-time code.",
		"console.letter.step2":            "Answer the questions and send. Your answers are encrypted on your device. You may answer again until the close.",
		"console.letter.step3":            "Keep the tracking code you are shown: with it you can check on the public bulletin board that your answers are there.",
		"console.letter.more":             "About the survey and its results:",
		"booth.register.intro":            "Enter the number and the code from the letter you received. This device then gets an anonymous key for answering (a credential). It holds no name and is signed without anyone learning whose it is, so your answers cannot be linked to you.",
		"booth.register.file.hint":        "Load the credential file (koe-credential.json) saved on another device to answer again with it.",
		"booth.revote.note":               "You have already answered with this registration on this device. If you answer again, your new answers replace the earlier ones: only the last count. Anyone can see on the bulletin board that you answered again, so this is no protection if someone forces your answers. Someone else? Choose “Hand over to someone else”.",
		"booth.review.sealed":             "The tracking code of your encrypted answers:",
		"booth.review.cast":               "Send these answers",
		"booth.challenge.intro":           "You can open these encrypted answers as a test, to see that they were encrypted correctly. Opened answers are not counted and are published on the public board. Afterwards they are encrypted afresh before you send them.",
		"booth.challenge.tracking":        "Tracking code of the opened answers",
		"booth.challenge.after":           "These answers will not be counted. They are on the public board, where anyone can repeat this check.",
		"booth.receipt.ok":                "Your answers were received and recorded on the public board.",
		"booth.receipt.verified":          "Checked on this device: the board entry holds exactly these encrypted answers, and it is included in the board's signed checkpoint.",
		"booth.receipt.unverified":        "Warning: this device could not check the receipt. Save it and check it on the “Check a receipt” page, or contact this survey's office.",
		"booth.receipt.counter":           "Times answered with this registration",
		"booth.receipt.keep":              "With the tracking code you can check at any time that your answers are on the board. It does not reveal what you answered.",
		"booth.receipt.revote.h":          "Answer again",
		"booth.receipt.revote":            "You can answer again until the close; only your last answers count. But whether, and when, a credential answered again is public on the bulletin board: answering again is no protection if someone forces or buys your answers.",
		"booth.receipt.revote.button":     "Answer again",
		"booth.credential.intro":          "Your credential is kept in this browser. To answer again from another device, save the credential file and take it with you. On a shared device, erase it.",
		"booth.who.intro":                 "This device keeps the credentials of people who registered for this survey on it. Choose your own registration. Anyone else, such as another member of your family, registers with the code of their own letter: answering with someone else's registration would replace their answers.",
		"booth.js.casting":                "Sending… (your answers go on the board together with others, which can take a few seconds)",
		"booth.js.spoiled.ok":             "Checked: the opened answers held exactly what you chose.",
		"booth.js.spoiled.bad":            "Warning: the opened answers are not what you chose. Do not answer from this device, and contact this survey's office.",
		"booth.js.confirm.forget":         "Erase the credential from this device? Unless you saved the file, you will not be able to answer again.",
		"booth.js.err.already-registered": "This code has been used already: there is one credential per person. Answer again from the device you used, or load your credential file.",
		"booth.js.err.closed":             "The survey has closed; your answers cannot be accepted.",
		"booth.js.err.replay":             "Newer answers with this credential were accepted already. Please reload the page.",
		"booth.js.err.wrong-counter":      "This credential's answers are out of step with the bulletin board. Please reload the page and send them again.",
		"booth.js.err.too-many-casts":     "Too many answers with this credential in a short time. Please wait a minute and send again; only your last answers count.",
		"booth.js.err.config":             "This survey's settings do not check out. Do not answer: %s",
		"booth.js.final.none":             "This device holds no receipt of this survey. If you saved the receipt file, check it on the “Check a receipt” page.",
	},
}

// msgFor is msg, with a survey's wording when survey is true.
// A catalogue file keeps a survey's wording of key as "survey." + key.
func msgFor(lang, key string, survey bool, args ...any) string {
	if !survey {
		return msg(lang, key, args...)
	}
	m, ok := lookupIn(lang, "survey."+key, args)
	if !ok {
		m, ok = surveyWords[lang][key]
	}
	if ok {
		if len(args) == 0 {
			return m
		}
		return fmt.Sprintf(m, args...)
	}
	return msg(lang, key, args...)
}

// surveyKind is implemented by page data about one election.
type surveyKind interface{ survey() bool }

func (ev *electionView) survey() bool { return ev != nil && ev.Info != nil && ev.Info.Kind == "survey" }
