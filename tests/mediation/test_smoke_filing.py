from starlette.testclient import TestClient

from tests.support.factories import PDF_BYTES, file_case, register


def test_disputant_files_a_case_and_sees_it(client: TestClient) -> None:
    register(client)
    number = file_case(client, files=[("合同.pdf", PDF_BYTES)])
    page = client.get(f"/cases/{number}?filed=1")
    assert page.status_code == 200
    assert number in page.text
    assert "合同.pdf" in page.text
