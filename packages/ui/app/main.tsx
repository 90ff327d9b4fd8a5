import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Link, Route, Switch } from 'wouter';
import { ComparePage } from './pages/Compare';
import { DatasetPage } from './pages/Dataset';
import { DatasetsPage } from './pages/Datasets';
import { RunPage } from './pages/Run';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: { queries: { retry: 1, refetchOnWindowFocus: false, staleTime: 1000 } },
});

function App() {
  return (
    <>
      <header className="topbar">
        <Link href="/" className="brand">
          Assay
        </Link>
        <nav>
          <Link href="/">Datasets</Link>
        </nav>
      </header>
      <main>
        <Switch>
          <Route path="/" component={DatasetsPage} />
          <Route path="/datasets/:id/runs/:runId">
            {(p) => <RunPage key={p.runId} datasetId={p.id} runId={p.runId} />}
          </Route>
          <Route path="/datasets/:id/compare">{(p) => <ComparePage datasetId={p.id} />}</Route>
          <Route path="/datasets/:id">{(p) => <DatasetPage datasetId={p.id} />}</Route>
          <Route>
            <div className="error" role="alert">
              No page here. <Link href="/">Back to datasets</Link>
            </div>
          </Route>
        </Switch>
      </main>
    </>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <App />
    </QueryClientProvider>
  </StrictMode>,
);
