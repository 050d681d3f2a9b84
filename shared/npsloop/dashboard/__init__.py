"""The /dashboard page: server-rendered HTML with SVG charts drawn here, German and English, no scripts."""
