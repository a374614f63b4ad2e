"""What the browser tests share: a headless Chromium, and a live gateway for the status page.

The gateway binary is GATEWAY_BINARY (default .build/debug/invokeai-gateway), the InvokeAI it
fronts INVOKEAI_URL (scripts/browser-test runs under scripts/invokeai-harness, which sets it).
Screenshots and the gateways' logs go to test-artifacts/browser/.
"""

import json
import os
import signal
import socket
import struct
import subprocess
import tempfile
import time
import unittest
import urllib.request
import zlib

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARTIFACTS = os.path.join(ROOT, "test-artifacts", "browser")
BINARY = os.environ.get("GATEWAY_BINARY", os.path.join(ROOT, ".build", "debug", "invokeai-gateway"))
# Generous: InvokeAI on a shared 2-core machine; these bound waits, they do not measure.
WAIT = 120


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def png(width, height, rgb):
    """A solid-colour RGB PNG, written by hand so the test needs no imaging library."""
    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)
    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(row * height)) + chunk(b"IEND", b"")


def http(method, url, body=None, key=None):
    headers = {"Content-Type": "application/json"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    request = urllib.request.Request(url, method=method, data=json.dumps(body).encode() if body is not None else None,
                                     headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


class BrowserCase(unittest.TestCase):
    """A headless Chromium for the class, with its console and network logs."""

    @classmethod
    def setUpClass(cls):
        os.makedirs(ARTIFACTS, exist_ok=True)
        options = Options()
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,1000"):
            options.add_argument(argument)
        # "performance": every request the browser makes (Chrome DevTools' Network events).
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        cls.driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
        cls.driver.set_window_size(1280, 1000)

    @classmethod
    def tearDownClass(cls):
        cls.driver.quit()

    def wait_for(self, condition, what, timeout=WAIT):
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.1).until(condition)
        except TimeoutException:
            self.screenshot(f"timeout-{what.replace(' ', '-')[:40]}")
            raise AssertionError(f"timed out waiting for {what}")

    def screenshot(self, name):
        path = os.path.join(ARTIFACTS, f"{name}.png")
        self.driver.save_screenshot(path)
        return path

    def console_errors(self):
        return [entry for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]

    def requests_sent(self):
        """The requests the browser sent since the last call: [{url, type, headers}]."""
        sent = []
        for entry in self.driver.get_log("performance"):
            message = json.loads(entry["message"])["message"]
            if message["method"] == "Network.requestWillBeSent":
                params = message["params"]
                sent.append({"url": params["request"]["url"], "type": params.get("type"),
                             "headers": params["request"].get("headers", {})})
        return sent


class GatewayPageCase(BrowserCase):
    """A gateway of its own for the class, serving the status page on a free port."""

    log_name = "gateway.log"

    @classmethod
    def serve_arguments(cls):
        """More `serve` arguments (a subclass's keys file)."""
        return []

    @classmethod
    def setUpClass(cls):
        invokeai = os.environ.get("INVOKEAI_URL")
        if not invokeai:
            raise RuntimeError("INVOKEAI_URL is not set: run this under scripts/invokeai-harness (scripts/browser-test does)")
        os.makedirs(ARTIFACTS, exist_ok=True)
        cls.state = tempfile.mkdtemp(prefix="gateway-browser-")
        cls.port = free_port()
        cls.base = f"http://127.0.0.1:{cls.port}"
        cls.log = open(os.path.join(ARTIFACTS, cls.log_name), "w")
        cls.gateway = subprocess.Popen(
            [BINARY, "serve", "--port", str(cls.port), "--invokeai", invokeai, "--state-dir", cls.state,
             "--workflows", os.path.join(ROOT, "workflows"), "--public", os.path.join(ROOT, "Public"),
             "--openapi", os.path.join(ROOT, "openapi", "openapi.json"), "--destination", "gateway-browser-test",
             *cls.serve_arguments()],
            stdout=cls.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 60
        while True:
            try:
                status, body = http("GET", f"{cls.base}/readyz")
                if status == 200 and body.get("events", {}).get("connected"):
                    break
            except OSError:
                pass
            if time.time() > deadline or cls.gateway.poll() is not None:
                raise RuntimeError(f"the gateway did not become ready; see {cls.log.name}")
            time.sleep(0.2)
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        super().tearDownClass()
        cls.gateway.send_signal(signal.SIGTERM)
        try:
            cls.gateway.wait(timeout=30)
        except subprocess.TimeoutExpired:
            cls.gateway.kill()
        cls.log.close()

    def open_page(self, path="/"):
        self.driver.get_log("browser")  # each test sees only its own console entries
        self.driver.get(self.base + path)
        self.wait_for(lambda d: d.find_elements(By.CSS_SELECTOR, "#workflow-list button"), "the workflows to be listed")

    def choose(self, workflow):
        self.driver.find_element(By.CSS_SELECTOR, f'#workflow-list button[data-workflow="{workflow}"]').click()
        self.wait_for(lambda d: d.find_element(By.ID, "workflow-title").text and d.find_elements(By.CSS_SELECTOR, "#fields .field"),
                      f"the form of {workflow}")

    def field(self, label):
        """The control of the form field whose visible label is `label` (found through <label for>)."""
        for element in self.driver.find_elements(By.CSS_SELECTOR, "#fields .field > label"):
            if element.text.rstrip(" *") == label:
                return self.driver.find_element(By.ID, element.get_attribute("for"))
        raise AssertionError(f"no field labelled {label!r}")

    def set_value(self, control, value):
        control.send_keys(Keys.CONTROL, "a")
        control.send_keys(Keys.DELETE)
        control.send_keys(str(value))

    def run_status(self):
        return self.driver.find_element(By.ID, "run-status").text

    def wait_for_end(self):
        self.wait_for(lambda d: self.run_status() in ("completed", "failed", "canceled"), "the run to end")
        return self.run_status()
