// Caches the page's shell only (never the conversation or any /api answer), so an
// installed Tether opens at once and says it is offline instead of failing.
"use strict";
const SHELL = "tether-shell-v1";
const FILES = ["/", "/app.js", "/app.css", "/manifest.webmanifest", "/icon.svg", "/icon-192.png", "/icon-512.png"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((name) => name !== SHELL).map((name) => caches.delete(name))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin || !FILES.includes(url.pathname)) {
    return; // the network, uncached: the API and everything else
  }
  // The network first, so an updated Tether is seen at once; the shell when offline.
  event.respondWith(fetch(event.request).catch(() => caches.match(url.pathname)));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(self.clients.matchAll({ type: "window" }).then((windows) => {
    if (windows.length) return windows[0].focus();
    return self.clients.openWindow("/");
  }));
});
