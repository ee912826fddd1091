def test_the_accessibility_statement_is_open_to_everyone_and_linked_from_every_page(app, tracer_client):
    anonymous = app.test_client()
    page = anonymous.get("/accessibility")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for heading in ("Accessibility statement for Test, trace and support", "Feedback and contact information",
                    "Enforcement procedure", "Compliance status", "Non-accessible content",
                    "Preparation of this accessibility statement"):
        assert heading in html
    assert "axe-core" in html and "320 pixels" in html and "key presses alone" in html
    assert 'href="mailto:accessibility@council.example"' in html
    for c, path in ((anonymous, "/login"), (tracer_client, "/")):
        assert 'href="/accessibility">Accessibility statement</a>' in c.get(path).get_data(as_text=True)


def test_the_contact_details_come_from_the_configuration(app, client):
    app.config["TTS_ACCESSIBILITY_EMAIL"] = "a11y@sheffield.example"
    try:
        assert 'href="mailto:a11y@sheffield.example"' in client.get("/accessibility").get_data(as_text=True)
    finally:
        app.config["TTS_ACCESSIBILITY_EMAIL"] = "accessibility@council.example"
