// Example of config.js, the page's only settings file. The real config.js is
// generated at deploy time by helpers/webui.py (render_config) and uploaded next
// to index.html; this example is never uploaded. To try the page locally, copy
// it to config.js and point apiBaseUrl at a deployed API.
window.WORKSHOP_CONFIG = {
  // The API's base URL, ending in "/": the stage URL from the api stack's
  // ApiUrl output, or the failover name once Route 53 is set up.
  apiBaseUrl: "https://abc123defg.execute-api.eu-west-1.amazonaws.com/prod/",
  // apiBaseUrl: "https://api.example.com/",

  // Optional: the region this copy of the page is hosted in (shown in the banner).
  region: "eu-west-1",

  // Optional: the page heading and browser tab title.
  title: "Wild Rydes support tickets",

  // Optional: friendly names shown next to region codes.
  regionLabels: { "eu-west-1": "Ireland", "ap-southeast-1": "Singapore" },

  // Optional: tickets per page (1-100, default 20) and how often the banner
  // re-checks GET /health, in seconds (default 30; 0 turns it off).
  pageSize: 20,
  healthCheckSeconds: 30,
};
