from tests.helpers import outbox, sign_in


def test_sign_in_and_my_data(client, customer):
    sign_in(client, "An.Nguyen@Example.vn")
    page = client.get("/my-data").get_data(as_text=True)
    assert "Nguyễn Văn An" in page
    assert outbox()[0].recipient == "an.nguyen@example.vn"
