//! Just enough of a WebDriver client to drive headless Chromium through chromedriver (Debian's
//! `chromium` and `chromium-driver`): open a page, click, type, read text. Without them a test
//! is skipped with a message, except under CI (`CI` set, as `.ci/run` does), where it fails.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// The key of an element reference in W3C WebDriver answers.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A headless Chromium session; closed, with its driver, when dropped.
pub struct Browser {
    driver: Child,
    session: String,
    base: String,
    _profile: tempfile::TempDir,
}

/// `name` on the `PATH`.
fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

impl Browser {
    /// A new session, or `None` outside CI when Chromium or chromedriver is missing.
    pub fn start() -> Option<Browser> {
        let found = (on_path("chromedriver"), on_path("chromium"));
        let (Some(driver), Some(chromium)) = found else {
            let why = "chromium and chromedriver are not installed (Debian: apt-get install \
                       chromium chromium-driver)";
            if std::env::var_os("CI").is_some() {
                panic!("the browser test cannot run under CI: {why}");
            }
            eprintln!("skipped: {why}");
            return None;
        };
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let base = format!("http://127.0.0.1:{port}");
        wait_ready(&base);
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            &format!("--user-data-dir={}", profile.path().display()),
        ];
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": chromium, "args": args}
        }}});
        let session = send("POST", &format!("{base}/session"), Some(capabilities));
        let session = session["sessionId"]
            .as_str()
            .expect("a session id")
            .to_string();
        let browser = Browser {
            driver,
            session,
            base,
            _profile: profile,
        };
        // An element looked for right after a click may belong to the page the click loads:
        // the driver waits up to 10 s for it to appear rather than failing on a busy machine.
        browser.command("POST", "/timeouts", Some(json!({"implicit": 10_000})));
        Some(browser)
    }

    fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        send(method, &url, body)
    }

    pub fn open(&self, url: &str) {
        self.command("POST", "/url", Some(json!({ "url": url })));
    }

    /// The address of the page shown.
    pub fn url(&self) -> String {
        self.command("GET", "/url", None)
            .as_str()
            .unwrap()
            .to_string()
    }

    pub fn title(&self) -> String {
        self.command("GET", "/title", None)
            .as_str()
            .unwrap()
            .to_string()
    }

    /// The element `css` selects; the test fails if there is none.
    fn find(&self, css: &str) -> String {
        let found = self.command(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        let element = found[ELEMENT].as_str();
        element
            .unwrap_or_else(|| panic!("no element `{css}`: {found}"))
            .to_string()
    }

    pub fn click(&self, css: &str) {
        let element = self.find(css);
        self.command(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        );
    }

    /// Replaces the text of the input `css` selects.
    pub fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css);
        self.command(
            "POST",
            &format!("/element/{element}/clear"),
            Some(json!({})),
        );
        let keys = json!({ "text": text });
        self.command("POST", &format!("/element/{element}/value"), Some(keys));
    }

    /// The text the element `css` selects shows.
    pub fn text(&self, css: &str) -> String {
        let element = self.find(css);
        let text = self.command("GET", &format!("/element/{element}/text"), None);
        text.as_str().unwrap().to_string()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let url = format!("{}/session/{}", self.base, self.session);
        let _ = minreq::delete(url).send();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// The `value` of a WebDriver answer; a WebDriver error fails the test with its message.
fn send(method: &str, url: &str, body: Option<Value>) -> Value {
    let request = minreq::Request::new(crate::method_of(method), url).with_timeout(60);
    let request = match body {
        Some(body) => request
            .with_header("Content-Type", "application/json")
            .with_body(body.to_string()),
        None => request,
    };
    let text = match request.send() {
        Ok(r) if r.status_code < 400 => r.as_str().unwrap().to_string(),
        Ok(r) => panic!("{method} {url}: {} {}", r.status_code, r.as_str().unwrap()),
        Err(e) => panic!("{method} {url}: {e}"),
    };
    let mut answer: Value = serde_json::from_str(&text).unwrap();
    answer["value"].take()
}

/// Waits for chromedriver to say that it is ready.
fn wait_ready(base: &str) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        let ready = minreq::get(format!("{base}/status"))
            .send()
            .ok()
            .and_then(|r| serde_json::from_str::<Value>(r.as_str().ok()?).ok())
            .is_some_and(|s| s["value"]["ready"] == json!(true));
        if ready {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("chromedriver did not start within 20 s");
}
