package web_test

import (
	"strings"
	"testing"
)

// TestPagesInChineseAndKorean renders resident pages in simplified Chinese
// and Korean: the right <html lang>, their own words, the switch naming
// each language in itself, and no catalogue key shown untranslated.
func TestPagesInChineseAndKorean(t *testing.T) {
	f := getFixture(t)
	pages := []struct {
		name, path string
		want       map[string][]string
	}{
		{"elections", "/", map[string][]string{
			"zh-Hans": {"投票与问卷调查", "结果已公布"},
			"ko":      {"투표 및 설문 조사", "결과 공표"},
		}},
		{"results", "/elections/" + f.survey + "/results", map[string][]string{
			"zh-Hans": {"已统计24票", "占名册上40名选民的60.0%", "每小时票数"},
			"ko":      {"24표를 집계했습니다", "명부상 투표자 40명 중 60.0%", "시간별 투표 수"},
		}},
		{"booth", "/elections/" + f.booth.id + "/vote", map[string][]string{
			"zh-Hans": {"一次性代码", `"ready":"准备就绪。"`},
			"ko":      {"일회용 코드", `"ready":"준비되었습니다."`},
		}},
		{"help", "/help", map[string][]string{
			"zh-Hans": {"通知书与代码"},
			"ko":      {"안내문과 코드"},
		}},
	}
	for _, p := range pages {
		for _, lang := range []string{"zh-Hans", "ko"} {
			t.Run(p.name+"/"+lang, func(t *testing.T) {
				resp, body := get(t, f.url+p.path+"?lang="+lang, "ja")
				if resp.StatusCode != 200 {
					t.Fatalf("status %d", resp.StatusCode)
				}
				if m := htmlLang.FindStringSubmatch(body); m == nil || m[1] != lang {
					t.Errorf("page in %v, want %s", m, lang)
				}
				if got := resp.Header.Get("Content-Language"); got != lang {
					t.Errorf("Content-Language %q", got)
				}
				for _, w := range p.want[lang] {
					if !strings.Contains(body, w) {
						t.Errorf("page has no %q", w)
					}
				}
				for _, name := range []string{">日本語<", ">English<", ">简体中文<", ">한국어<"} {
					if !strings.Contains(body, name) {
						t.Errorf("the language switch has no %s", name)
					}
				}
				if m := untranslated.FindString(body); m != "" {
					t.Errorf("untranslated catalogue key %q", m)
				}
			})
		}
	}
}

func TestLanguageChineseKorean(t *testing.T) {
	f := getFixture(t)
	for _, tc := range []struct{ header, want string }{
		{"zh-CN,zh;q=0.9", "zh-Hans"},
		{"zh", "zh-Hans"},
		{"zh-Hans-CN", "zh-Hans"},
		{"zh-TW,en;q=0.5", "zh-Hans"},
		{"ko-KR,ko;q=0.9,en;q=0.8", "ko"},
		{"ko", "ko"},
		{"en;q=0.9,ko;q=0.8", "en"},
		{"fr,ko;q=0.3,ja;q=0.2", "ko"},
	} {
		_, body := get(t, f.url+"/verify", tc.header)
		if m := htmlLang.FindStringSubmatch(body); m == nil || m[1] != tc.want {
			t.Errorf("Accept-Language %q: page in %v, want %s", tc.header, m, tc.want)
		}
	}
}
