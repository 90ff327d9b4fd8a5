import { createRoot } from 'react-dom/client';

createRoot(document.getElementById('root')!).render(<h1>Assay</h1>);
